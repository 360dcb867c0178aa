{#- The staging invariant, per raw table: raw rows = staged + quarantined +
    erased. The raw rows are counted from the files (audit__source_tables), the
    staged rows in the staging models, the quarantined rows in audit__quarantine
    and the rows of erased persons (counts only) in audit__erasures. -#}
with

staged as (
    {%- for raw in raw_tables() %}
        select
            '{{ raw.source }}' as source_name,
            '{{ raw.table }}' as table_name,
            '{{ raw.staging_model }}' as staging_model,
            (select count(*) from {{ ref(raw.staging_model) }}) as staged_rows
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}
),

source_tables as (
    select * from {{ ref('audit__source_tables') }}
),

quarantined as (
    select
        source_name,
        table_name,
        count(*) as quarantined_rows
    from {{ ref('audit__quarantine') }}
    group by source_name, table_name
),

erased as (
    select
        source_name,
        table_name,
        sum(erased_rows) as erased_rows
    from {{ ref('audit__erasures') }}
    group by source_name, table_name
),

counts as (
    select
        staged.source_name,
        staged.table_name,
        staged.staging_model,
        source_tables.raw_rows,
        staged.staged_rows,
        coalesce(quarantined.quarantined_rows, 0) as quarantined_rows,
        coalesce(erased.erased_rows, 0) as erased_rows
    from staged
    left join source_tables
        on
            staged.source_name = source_tables.source_name
            and staged.table_name = source_tables.table_name
    left join quarantined
        on
            staged.source_name = quarantined.source_name
            and staged.table_name = quarantined.table_name
    left join erased
        on
            staged.source_name = erased.source_name
            and staged.table_name = erased.table_name
),

final as (
    select
        {{ dbt.concat(['source_name', "'.'", 'table_name']) }} as raw_table,
        source_name,
        table_name,
        staging_model,
        raw_rows,
        staged_rows,
        quarantined_rows,
        erased_rows,
        -- A raw table missing from audit__source_tables cannot balance.
        coalesce(raw_rows = staged_rows + quarantined_rows + erased_rows, false) as is_balanced,
        case when raw_rows > 0 then 1.0 * quarantined_rows / raw_rows end as quarantine_rate
    from counts
)

select * from final
