{#- Shop account -> customer_key: the lookup every account-keyed source uses. -#}
select
    identifier_value as customer_id,
    customer_key
from {{ ref('identity_map') }}
where identifier_type = 'customer_id'
