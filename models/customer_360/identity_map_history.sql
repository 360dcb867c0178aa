{#-
  The identifier -> customer_key map across builds: one row per identifier
  and key version, valid from the as-of date of the first build that saw it
  until the as-of date of the build that replaced it. It replaces a dbt
  snapshot, which could neither forget an erased person nor take a rebuild of
  an earlier date: this table is rebuilt each time from its previous version
  ({{ this }}) and the current identity_map, so
  - rebuilding an as-of date replaces that date's observation (the same date
    twice, or a late file that changed it, leaves one version, not two);
  - consecutive observations with the same key collapse into one version;
  - every identifier of an erased person, and every key made from one, is
    dropped from the whole history (docs/privacy.md);
  - an identifier that drops out of identity_map (it became shared or
    blocklisted) keeps its last version open, as the snapshot did.
  The same builds in the same order give the same table (no wall clock).
  Plain SQL and a table materialization: no snapshot or merge support needed.
-#}
{{- erasure_lineage() }}
{%- set previous = adapter.get_relation(this.database, this.schema, this.identifier) if execute else none %}

with

current_map as (
    select
        identity_map_id,
        customer_key,
        {{ as_of_date_literal() }} as valid_from
    from {{ ref('identity_map') }}
),

previous_observations as (
    {%- if previous is not none %}
        select
            identity_map_id,
            customer_key,
            valid_from
        from {{ this }}
        where
            valid_from != {{ as_of_date_literal() }}
            and {{ erasure_keeps({'node_id': 'identity_map_id', 'customer_key': 'customer_key'}) }}
    {%- else %}
        select
            identity_map_id,
            customer_key,
            valid_from
        from current_map
        where 1 = 0
    {%- endif %}
),

observations as (
    select
        identity_map_id,
        customer_key,
        valid_from
    from previous_observations
    union all
    select
        identity_map_id,
        customer_key,
        valid_from
    from current_map
),

compared as (
    select
        identity_map_id,
        customer_key,
        valid_from,
        lag(customer_key) over (partition by identity_map_id order by valid_from) as previous_customer_key
    from observations
),

versions as (
    select
        identity_map_id,
        customer_key,
        valid_from
    from compared
    where previous_customer_key is null or previous_customer_key != customer_key
),

final as (
    select
        {{ dbt.concat(['identity_map_id', "'@'", as_text('valid_from')]) }} as identity_map_version_id,
        identity_map_id,
        customer_key,
        valid_from,
        lead(valid_from) over (partition by identity_map_id order by valid_from) as valid_to
    from versions
)

-- Lean storage (docs/scale.md): several rows per customer, written in customer_key order so
-- each stored block holds few keys and compresses them.
select * from final
order by customer_key
