{#-
  MetricFlow's daily time spine (docs/semantic-layer.md): one row per day from
  var metricflow_time_spine_start to a year after the as-of date, so metrics
  over time and dimensions dated up to a year ahead (send windows, offers'
  valid_until) find their day. dbt's own cross-database date_spine macro.
-#}
with

days as (
    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('metricflow_time_spine_start', '2000-01-01') ~ "' as date)",
        dbt.dateadd('day', 367, as_of_date_literal())
    ) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
