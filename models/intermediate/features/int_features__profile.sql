{#-
  Profile and contactability: who the person is and how they may be reached,
  merged over every account identity resolution tied to them.
-#}
{%- set consent_channels = feature_consent_channels() -%}
with

account_versions as (
    select * from {{ ref('int_customer__account_versions') }}
),

orders as (
    select * from {{ ref('int_customer__orders') }}
),

consents as (
    select * from {{ ref('int_customer__consents') }}
),

memberships as (
    select * from {{ ref('int_customer__loyalty_memberships') }}
),

age_bands as (
    select * from {{ ref('age_bands') }}
),

sightings as (
    select
        customer_key,
        created_at as seen_at
    from account_versions
    union all
    select
        customer_key,
        ordered_at as seen_at
    from orders
),

first_sightings as (
    select
        customer_key,
        min(seen_at) as first_known_at
    from sightings
    group by customer_key
),

accounts as (
    select
        customer_key,
        count(distinct customer_id) as accounts_count
    from account_versions
    group by customer_key
),

-- Latest known value across all the person's accounts: a newer version of
-- any account wins, so a move recorded on the second account is seen.
countries as (
    select
        customer_key,
        country_code,
        row_number() over (
            partition by customer_key
            order by updated_at desc, customer_id desc
        ) as recency_rank
    from account_versions
    where country_code is not null
),

birth_dates as (
    select
        customer_key,
        birth_date,
        row_number() over (
            partition by customer_key
            order by updated_at desc, customer_id desc
        ) as recency_rank
    from account_versions
    where birth_date is not null
),

ages as (
    select
        customer_key,
        {{ age_in_years('birth_date', as_of_date_literal()) }} as age_years
    from birth_dates
    where recency_rank = 1
),

age_banded as (
    select
        ages.customer_key,
        ages.age_years,
        age_bands.age_band
    from ages
    left join age_bands
        on
            ages.age_years >= age_bands.min_age
            and (age_bands.max_age is null or ages.age_years <= age_bands.max_age)
),

-- The latest change per channel across all accounts is the current consent;
-- at the same instant a withdrawal wins over a grant.
ranked_consents as (
    select
        customer_key,
        channel,
        is_granted,
        row_number() over (
            partition by customer_key, channel
            order by changed_at desc, case when is_granted then 1 else 0 end asc, consent_change_id desc
        ) as recency_rank
    from consents
),

current_consents as (
    select
        {%- for channel in consent_channels %}
            {%- set column_name = 'has_' ~ feature_column_suffix(channel) ~ '_consent' %}
            max(case when channel = '{{ channel }}' and is_granted then 1 else 0 end) = 1 as {{ column_name }},
        {%- endfor %}
        customer_key
    from ranked_consents
    where recency_rank = 1
    group by customer_key
),

active_memberships as (
    select
        customer_key,
        member_id,
        tier,
        points_balance,
        joined_at,
        row_number() over (
            partition by customer_key
            order by joined_at desc, member_id desc
        ) as recency_rank
    from memberships
    where is_active
),

final as (
    select
        first_sightings.customer_key,
        coalesce(accounts.accounts_count, 0) as accounts_count,
        countries.country_code,
        age_banded.age_years,
        coalesce(age_banded.age_band, 'unknown') as age_band,
        first_sightings.first_known_at,
        {{ dbt.datediff('cast(first_sightings.first_known_at as date)', as_of_date_literal(), 'day') }}
            as tenure_days,
        {%- for channel in consent_channels %}
            {%- set column_name = 'has_' ~ feature_column_suffix(channel) ~ '_consent' %}
            coalesce(current_consents.{{ column_name }}, false) as {{ column_name }},
        {%- endfor %}
        active_memberships.member_id is not null as is_loyalty_member,
        active_memberships.tier as loyalty_tier,
        active_memberships.points_balance as loyalty_points_balance,
        active_memberships.joined_at as loyalty_joined_at
    from first_sightings
    left join accounts on first_sightings.customer_key = accounts.customer_key
    left join countries
        on
            first_sightings.customer_key = countries.customer_key
            and countries.recency_rank = 1
    left join age_banded on first_sightings.customer_key = age_banded.customer_key
    left join current_consents on first_sightings.customer_key = current_consents.customer_key
    left join active_memberships
        on
            first_sightings.customer_key = active_memberships.customer_key
            and active_memberships.recency_rank = 1
)

select * from final
