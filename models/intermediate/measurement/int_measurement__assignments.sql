{#-
  Every assignment measurement compares, from two sources: the warehouse's own
  (activation.treatment_assignment_history, treated and held out; the global
  and the per-treatment holdout are both controls of the treatment) and the
  randomized campaigns run outside it (marketing.assignments). Own
  assignments are grouped into campaigns by var measurement_own_campaign_grain:
  'treatment' (CIW-<treatment>, every run pooled), 'month'
  (CIW-<treatment>-<yyyy-mm> of the run date) or 'run' (CIW-<treatment>-<run date>).
  The response window is [assigned_at, assigned_at + var
  measurement_response_window_days); an assignment whose window has not ended
  by the as-of date is flagged incomplete and left out of the effects.
  An external control row without a treatment code is a shared control: it is
  compared with every arm (every treatment code of the treatment rows) of its
  campaign; compared_arms names them (a treated row or a control carrying a
  code is compared with its own code only).
-#}
{%- set window_days = var('measurement_response_window_days', 30) -%}
{%- set grain = var('measurement_own_campaign_grain', 'treatment') -%}
{%- if grain not in ['treatment', 'month', 'run'] -%}
    {{ exceptions.raise_compiler_error(
        "var measurement_own_campaign_grain must be treatment, month or run; got " ~ grain) }}
{%- endif -%}
with

own_history as (
    select
        assignment_id,
        customer_key,
        treatment_code,
        channel,
        selection_method,
        is_holdout,
        holdout_type,
        assignment_group,
        assigned_at,
        run_date
    from {{ ref('treatment_assignment_history') }}
    -- Runs after the as-of date have not happened yet; a run's own assignments
    -- may start their send window a few days after it (kept, still incomplete).
    where run_date <= {{ as_of_date_literal() }}
),

external_assignments as (
    select
        assignment_id,
        customer_id,
        campaign_id,
        treatment_code,
        assignment_group,
        is_shared_control,
        assigned_at
    from {{ ref('stg_marketing__assignments') }}
    where assigned_at < {{ as_of_upper_bound() }}
),

account_keys as (
    select
        customer_id,
        customer_key
    from {{ ref('int_identity__account_keys') }}
),

own as (
    select
        'own' as assignment_source,
        assignment_id,
        {%- if grain == 'treatment' %}
            {{ dbt.concat(["'CIW-'", 'treatment_code']) }} as campaign_id,
        {%- elif grain == 'month' %}
            {{ dbt.concat(["'CIW-'", 'treatment_code', "'-'", 'substring(' ~ as_text('run_date') ~ ', 1, 7)']) }}
                as campaign_id,
        {%- else %}
            {{ dbt.concat(["'CIW-'", 'treatment_code', "'-'", as_text('run_date')]) }} as campaign_id,
        {%- endif %}
        customer_key,
        treatment_code,
        channel,
        selection_method,
        holdout_type,
        assignment_group,
        false as is_shared_control,
        assigned_at,
        run_date
    from own_history
),

external as (
    select
        'external' as assignment_source,
        external_assignments.assignment_id,
        external_assignments.campaign_id,
        -- A left join keeps an assignment the map missed visible: its null key fails the not_null test.
        account_keys.customer_key,
        external_assignments.customer_id,
        external_assignments.treatment_code,
        'randomized' as selection_method,
        external_assignments.assignment_group,
        external_assignments.is_shared_control,
        external_assignments.assigned_at
    from external_assignments
    left join account_keys on external_assignments.customer_id = account_keys.customer_id
),

-- Each source names the columns only it has (macros/sql/union_padded.sql).
unioned as (
    {{ union_padded(
        {'own': ['channel', 'holdout_type', 'run_date'], 'external': ['customer_id']},
        keys=[
            'assignment_source', 'assignment_id', 'campaign_id', 'customer_key', 'treatment_code',
            'selection_method', 'assignment_group', 'is_shared_control', 'assigned_at',
        ],
        padded={
            'customer_id': 'cast(null as ' ~ dbt.type_string() ~ ')',
            'channel': 'cast(null as ' ~ dbt.type_string() ~ ')',
            'holdout_type': 'cast(null as ' ~ dbt.type_string() ~ ')',
            'run_date': 'cast(null as date)',
        },
    ) }}
),

windowed as (
    select
        {{ dbt.concat(['assignment_source', "':'", 'assignment_id']) }} as assignment_key,
        assignment_source,
        assignment_id,
        campaign_id,
        customer_key,
        customer_id,
        treatment_code,
        channel,
        selection_method,
        holdout_type,
        assignment_group,
        assignment_group = 'treatment' as is_treated,
        is_shared_control,
        assigned_at,
        cast(assigned_at as date) as assigned_date,
        {{ dbt.dateadd('day', window_days, 'assigned_at') }} as response_window_end,
        run_date
    from unioned
),

-- Shared controls are external rows: the arms each external row is compared in
-- (macros/measurement/compared_arms.sql).
external_rows as (
    select
        assignment_key,
        campaign_id,
        treatment_code,
        is_treated
    from windowed
    where assignment_source = 'external'
),

external_arms as (
    select
        arms.assignment_key,
        {{ dbt.listagg('arms.arm_code', "', '", 'order by arms.arm_code') }} as compared_arms
    from ({{ measurement_compared_arms('external_rows') }}) as arms
    group by arms.assignment_key
),

final as (
    select
        windowed.assignment_key,
        windowed.assignment_source,
        windowed.assignment_id,
        windowed.campaign_id,
        windowed.customer_key,
        windowed.customer_id,
        windowed.treatment_code,
        windowed.channel,
        windowed.selection_method,
        windowed.holdout_type,
        windowed.assignment_group,
        windowed.is_treated,
        windowed.is_shared_control,
        coalesce(external_arms.compared_arms, windowed.treatment_code) as compared_arms,
        windowed.assigned_at,
        windowed.assigned_date,
        windowed.response_window_end,
        windowed.response_window_end <= {{ as_of_upper_bound() }} as is_window_complete,
        windowed.run_date
    from windowed
    left join external_arms on windowed.assignment_key = external_arms.assignment_key
)

select * from final
