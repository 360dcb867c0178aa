{#- Every raw row staging refused, from every raw table, with the reason. -#}
with

quarantined as (
    {%- for raw in raw_tables() %}
        select
            '{{ raw.source }}' as source_name,
            '{{ raw.table }}' as table_name,
            raw_key,
            quarantine_reason,
            quarantine_detail,
            {#- Only refused rows pay for the JSON; the column list is the contract's. #}
            {{ raw_values_json(raw_contract_columns(raw.source, raw.table) if execute else ['x']) }} as raw_values
        {#- A table's refused rows: its base view, or the table that stores them (incremental). #}
        from {{ ref(raw.get('quarantine_model', raw.staging_model | replace('stg_', 'base_', 1))) }}
        where quarantine_reason is not null
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        {{ dbt.concat([
            'source_name', "'.'", 'table_name', "':'", 'raw_key', "'#'",
            as_text('row_number() over (partition by source_name, table_name, raw_key order by quarantine_reason, raw_values)')
        ]) }} as quarantine_row_id,
        source_name,
        table_name,
        raw_key,
        quarantine_reason,
        quarantine_detail,
        raw_values,
        {{ as_of_date_literal() }} as as_of_date
    from quarantined
)

select * from final
