-- customer_value must hold exactly the customers of customer_360: a returned
-- row is a key missing from one side.
with

customer_value as (
    select * from {{ ref('customer_value') }}
),

customers as (
    select * from {{ ref('customer_360') }}
)

select
    coalesce(customer_value.customer_key, customers.customer_key) as customer_key,
    customer_value.customer_key is null as is_missing_from_customer_value
from customer_value
full outer join customers on customer_value.customer_key = customers.customer_key
where customer_value.customer_key is null or customers.customer_key is null
