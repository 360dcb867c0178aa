{#-
  Values the raw data gave that staging could not use but that do not refuse
  their row (the row is staged, the value is null): one row per such value,
  with the reason, so nothing changes silently. Rows refused whole are in
  audit__quarantine instead.
-#}
with

customer_birth_dates as (
    select
        'shop' as source_name,
        'customers' as table_name,
        customer_version_id as staged_row_id,
        'birth_date' as column_name,
        birth_date_issue as issue
    from {{ ref('stg_shop__customers') }}
    where birth_date_issue is not null
),

final as (
    select
        {{ dbt.concat(['source_name', "'.'", 'table_name', "':'", 'staged_row_id', "'#'", 'column_name']) }}
            as value_issue_id,
        source_name,
        table_name,
        staged_row_id,
        column_name,
        issue,
        {{ as_of_date_literal() }} as as_of_date
    from customer_birth_dates
)

select * from final
