-- The channel for each primary treatment: among the treatment's channels the
-- customer currently consents to, the one they engage with most (ties: the
-- marketer's channel rank). No consenting channel means no row here.
with

primary_treatments as (
    select
        customer_key,
        treatment_code
    from {{ ref('int_activation__primary_treatments') }}
),

treatment_channels as (
    select
        treatment_code,
        channel,
        channel_rank
    from {{ ref('activation_treatment_channels') }}
),

engagement as (
    select
        customer_key,
        channel,
        has_consent,
        engagement_score
    from {{ ref('int_activation__channel_engagement') }}
),

options as (
    select
        primary_treatments.customer_key,
        primary_treatments.treatment_code,
        treatment_channels.channel,
        treatment_channels.channel_rank,
        engagement.engagement_score,
        row_number() over (
            partition by primary_treatments.customer_key
            order by engagement.engagement_score desc, treatment_channels.channel_rank asc
        ) as option_rank
    from primary_treatments
    inner join treatment_channels on primary_treatments.treatment_code = treatment_channels.treatment_code
    inner join engagement
        on
            primary_treatments.customer_key = engagement.customer_key
            and treatment_channels.channel = engagement.channel
    -- Consent is a hard limit: a channel without current consent is never an option.
    where engagement.has_consent
)

select
    customer_key,
    treatment_code,
    channel,
    channel_rank,
    engagement_score
from options
where option_rank = 1
