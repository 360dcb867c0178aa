-- The previous_build source must name the relation the measurement model lands
-- in: if the measurement schema or the model's alias changed without it,
-- activation would silently stop seeing the scores. Returns a row when they part.
{%- set landed = ref('uplift_scores') %}
{%- set declared = source('previous_build', 'uplift_scores') %}
select
    '{{ landed }}' as model_relation,
    '{{ declared }}' as source_relation
where lower('{{ landed }}') <> lower('{{ declared }}')
