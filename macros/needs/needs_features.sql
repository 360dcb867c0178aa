{#-
  The needs features, in one place: int_needs__features computes them,
  int_needs__fitting_sample hands exactly these columns to the clustering, and
  customer_needs scales them and measures distances over them. Category and
  channel features follow the customer 360's lists (macros/features/
  feature_lists.sql); device shares follow var('needs_device_types').
  Describe a new feature in models/intermediate/needs/_int_needs__models.yml.
-#}
{% macro needs_feature_columns() -%}
    {%- set columns = [] -%}
    {%- for category in feature_categories() -%}
        {%- do columns.append('category_share_' ~ feature_column_suffix(category)) -%}
    {%- endfor -%}
    {%- do columns.extend(['discount_share', 'price_level_index']) -%}
    {%- for channel in feature_sales_channels() -%}
        {%- do columns.append('channel_share_' ~ feature_column_suffix(channel)) -%}
    {%- endfor -%}
    {%- for device in needs_device_types() -%}
        {%- do columns.append('device_share_' ~ feature_column_suffix(device)) -%}
    {%- endfor -%}
    {%- do columns.extend([
        'activity_hour_sin', 'activity_hour_cos', 'weekend_activity_share',
        'sessions_per_order', 'searches_per_session', 'return_rate',
        'service_cases_per_order', 'latest_nps_score', 'message_open_rate',
    ]) -%}
    {{ return(columns) }}
{%- endmacro %}


{#- Device types of web events (stg_web__events.device_type) that get a share column each:
    the data's (int_features__vocabulary), or var needs_device_types when set to a list. -#}
{% macro needs_device_types() -%}
    {{ return(feature_vocabulary('device_type', 'needs_device_types', var('needs_max_device_types', 5))) }}
{%- endmacro %}
