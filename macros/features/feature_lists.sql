{#-
  The lists that become one column each in the customer 360. They live here,
  in one place, so a new product category or consent channel is one edit;
  each can also be overridden without editing code:
  dbt build --vars '{feature_categories: [fashion, home, garden]}'.
  Add the new column's description to _customer_360__features.yml as well.
-#}

{#- Top-level product categories (stg_shop__products.category) that get a
    revenue share column each; any other category counts in category_share_other. -#}
{% macro feature_categories() -%}
    {{ return(var('feature_categories', [
        'fashion', 'beauty', 'home', 'electronics', 'sports', 'kids', 'grocery', 'books'
    ])) }}
{%- endmacro %}


{#- Sales channels of stg_shop__orders.channel that get an order share column each. -#}
{% macro feature_sales_channels() -%}
    {{ return(var('feature_sales_channels', ['web', 'app', 'store'])) }}
{%- endmacro %}


{#- Contact channels of stg_crm__consents.channel that get a consent flag each. -#}
{% macro feature_consent_channels() -%}
    {{ return(var('feature_consent_channels', ['email', 'sms', 'push', 'post', 'phone'])) }}
{%- endmacro %}


{#- Rolling windows, in days ending on the as-of date, for digital behaviour counts. -#}
{% macro feature_activity_windows() -%}
    {{ return(var('feature_activity_windows', [30, 90, 365])) }}
{%- endmacro %}


{#- Column-name part for a list value: lowercase, runs of other characters become '_'. -#}
{% macro feature_column_suffix(value) -%}
    {{ return(modules.re.sub('[^a-z0-9]+', '_', value | string | lower) | trim('_')) }}
{%- endmacro %}
