-- customer_needs holds exactly the customers of the customer 360, each once:
-- returns keys missing on either side (duplicates fail the unique test).
with

customers as (
    select customer_key from {{ ref('customer_360') }}
),

customer_needs as (
    select customer_key from {{ ref('customer_needs') }}
),

missing_in_needs as (
    select
        customers.customer_key,
        'missing from customer_needs' as problem
    from customers
    left join customer_needs on customers.customer_key = customer_needs.customer_key
    where customer_needs.customer_key is null
),

unknown_in_needs as (
    select
        customer_needs.customer_key,
        'not in customer_360' as problem
    from customer_needs
    left join customers on customer_needs.customer_key = customers.customer_key
    where customers.customer_key is null
)

select
    customer_key,
    problem
from missing_in_needs
union all
select
    customer_key,
    problem
from unknown_in_needs
