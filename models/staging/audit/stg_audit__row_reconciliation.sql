{#- The staging invariant, per raw table: raw rows = staged + quarantined. -#}
with

counts as (
    {%- for raw in raw_tables() %}
        select
            '{{ raw.source }}' as source_name,
            '{{ raw.table }}' as table_name,
            '{{ raw.staging_model }}' as staging_model,
            (select count(*) from {{ raw_source(raw.source, raw.table) }}) as raw_rows,
            (select count(*) from {{ ref(raw.staging_model) }}) as staged_rows,
            (
                select count(*) from {{ ref('stg_audit__quarantine') }}
                where source_name = '{{ raw.source }}' and table_name = '{{ raw.table }}'
            ) as quarantined_rows
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}
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
        raw_rows = staged_rows + quarantined_rows as is_balanced,
        case when raw_rows > 0 then 1.0 * quarantined_rows / raw_rows end as quarantine_rate
    from counts
)

select * from final
