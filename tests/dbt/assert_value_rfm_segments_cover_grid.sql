-- Every cell of the 5 x 5 recency x frequency grid must fall in exactly one
-- RFM segment of the seed, and one row must name the customers without a
-- purchase; a returned row is a grid cell in none or several segments.
with

rfm_segments as (
    select * from {{ ref('value_rfm_segments') }}
),

scores as (
    {%- for score in range(1, 6) %}
        select {{ score }} as score
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

grid as (
    select
        recency.score as recency_score,
        frequency.score as frequency_score
    from scores as recency
    cross join scores as frequency
),

matches as (
    select
        grid.recency_score,
        grid.frequency_score,
        count(rfm_segments.rfm_segment) as segments_count
    from grid
    left join rfm_segments
        on
            grid.recency_score between rfm_segments.min_recency_score and rfm_segments.max_recency_score
            and grid.frequency_score between rfm_segments.min_frequency_score and rfm_segments.max_frequency_score
    group by grid.recency_score, grid.frequency_score
),

no_purchase_rows as (
    select count(*) as rows_count
    from rfm_segments
    where min_recency_score is null
)

select
    matches.recency_score,
    matches.frequency_score,
    matches.segments_count
from matches
where matches.segments_count != 1
union all
select
    null as recency_score,
    null as frequency_score,
    no_purchase_rows.rows_count as segments_count
from no_purchase_rows
where no_purchase_rows.rows_count != 1
