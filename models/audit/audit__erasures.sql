{#-
  The only trace an erasure leaves: per request and raw table, how many raw
  rows the build left out (they are in no staged, quarantined or later
  relation). No identifier, no hash of one, no customer_key. Counted from the
  raw files, like audit__source_tables (the other audit models that read the
  sources), against the ephemeral erasure scope. A row removed for two
  requests counts for the first (request_id order), so the counts add up to
  what audit__row_reconciliation calls erased.
-#}
{%- set raw_identifiers = erasure_raw_identifiers() %}
{{- erasure_lineage() }}

with

requests as (
    select
        request_id,
        requested_at,
        identifiers_named
    from {{ ref('stg_crm__erasure_requests') }}
),

{%- if erasure_is_requested() %}

    scope as (
        select
            request_id,
            node_id
        from {{ ref('base_crm__erasure_scope') }}
    ),

    first_request_per_node as (
        select
            node_id,
            min(request_id) as request_id
        from scope
        group by node_id
    ),

    identifiers_resolved as (
        select
            request_id,
            count(*) as identifiers_resolved,
            sum(case when node_id like 'customer_id:%' then 1 else 0 end) as accounts_erased
        from scope
        group by request_id
    ),

    erased_rows as (
        {%- for qualified, identifiers in raw_identifiers.items() %}
            {%- set parts = qualified.split('.') %}
            {%- set aliases = [] %}
            select
                '{{ parts[0] }}' as source_name,
                '{{ parts[1] }}' as table_name,
                {%- for identifier_type in identifiers %}
                    {%- do aliases.append('match_' ~ loop.index ~ '.request_id') %}
                {%- endfor %}
                {{ nullable_min(aliases) }} as request_id
            from {{ raw_source(parts[0], parts[1]) }} as raw_rows
            {%- for identifier_type, expression in identifiers.items() %}
                left join first_request_per_node as match_{{ loop.index }}
                    on {{ erasure_node(identifier_type, expression) }} = match_{{ loop.index }}.node_id
            {%- endfor %}
            {%- if not loop.last %}
                union all
            {%- endif %}
        {%- endfor %}
    ),

    counts as (
        select
            request_id,
            source_name,
            table_name,
            count(*) as erased_rows
        from erased_rows
        where request_id is not null
        group by request_id, source_name, table_name
    ),
{%- else %}

    identifiers_resolved as (
        select
            cast(null as {{ dbt.type_string() }}) as request_id,
            0 as identifiers_resolved,
            0 as accounts_erased
        where 1 = 0
    ),

    counts as (
        select
            cast(null as {{ dbt.type_string() }}) as request_id,
            cast(null as {{ dbt.type_string() }}) as source_name,
            cast(null as {{ dbt.type_string() }}) as table_name,
            0 as erased_rows
        where 1 = 0
    ),
{%- endif %}

raw_tables as (
    {%- for qualified in raw_identifiers %}
        {%- set parts = qualified.split('.') %}
        select
            '{{ parts[0] }}' as source_name,
            '{{ parts[1] }}' as table_name
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        {{ dbt.concat(['requests.request_id', "'|'", 'raw_tables.source_name', "'.'", 'raw_tables.table_name']) }}
            as erasure_audit_id,
        requests.request_id,
        requests.requested_at,
        {{ as_of_date_literal() }} as applied_as_of,
        {{ dbt.concat(['raw_tables.source_name', "'.'", 'raw_tables.table_name']) }} as raw_table,
        raw_tables.source_name,
        raw_tables.table_name,
        requests.identifiers_named,
        coalesce(identifiers_resolved.identifiers_resolved, 0) as identifiers_resolved,
        coalesce(identifiers_resolved.accounts_erased, 0) as accounts_erased,
        coalesce(counts.erased_rows, 0) as erased_rows
    from requests
    cross join raw_tables
    left join identifiers_resolved on requests.request_id = identifiers_resolved.request_id
    left join counts
        on
            requests.request_id = counts.request_id
            and raw_tables.source_name = counts.source_name
            and raw_tables.table_name = counts.table_name
)

select * from final
