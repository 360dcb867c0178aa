{#-
  Statistics for the measurement layer. SQL parts use only sqrt, exp, ln, abs
  and case, the same on DuckDB, Spark, Snowflake and BigQuery, so no adapter
  dispatch is needed. Constants known at compile time (the critical values of
  the configured alpha and power) are computed in Jinja.
-#}

{#- Natural logarithm in Jinja (dbt's context has no math module): x = m * 2^k
    with m in [0.5, 1), ln(m) = 2 * atanh((m - 1) / (m + 1)) by its series. -#}
{% macro _measurement_ln(x) -%}
    {%- set state = namespace(m=x | float, k=0, total=0.0) -%}
    {%- for _ in range(2000) if state.m >= 1.0 -%}
        {%- set state.m = state.m / 2 -%}
        {%- set state.k = state.k + 1 -%}
    {%- endfor -%}
    {%- for _ in range(2000) if state.m < 0.5 -%}
        {%- set state.m = state.m * 2 -%}
        {%- set state.k = state.k - 1 -%}
    {%- endfor -%}
    {%- set z = (state.m - 1) / (state.m + 1) -%}
    {%- for n in range(40) -%}
        {%- set state.total = state.total + z ** (2 * n + 1) / (2 * n + 1) -%}
    {%- endfor -%}
    {{ return(2 * state.total + state.k * 0.6931471805599453) }}
{%- endmacro %}


{#-
  The standard normal quantile (inverse CDF) at probability p, at compile time:
  Acklam's rational approximation (relative error < 1.15e-9).
-#}
{% macro measurement_normal_quantile(p) -%}
    {%- set p = p | float -%}
    {%- if p <= 0 or p >= 1 -%}
        {{ exceptions.raise_compiler_error("measurement_normal_quantile needs 0 < p < 1, got " ~ p) }}
    {%- endif -%}
    {%- set a = [-39.69683028665376, 220.9460984245205, -275.9285104469687,
                 138.3577518672690, -30.66479806614716, 2.506628277459239] -%}
    {%- set b = [-54.47609879822406, 161.5858368580409, -155.6989798598866,
                 66.80131188771972, -13.28068155288572] -%}
    {%- set c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838,
                 -2.549732539343734, 4.374664141464968, 2.938163982698783] -%}
    {%- set d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416] -%}
    {%- set p_low = 0.02425 -%}
    {%- if p < p_low or p > 1 - p_low -%}
        {%- set tail = p if p < p_low else 1 - p -%}
        {%- set q = (-2 * _measurement_ln(tail)) ** 0.5 -%}
        {%- set x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1) -%}
        {{ return(x if p < p_low else -x) }}
    {%- endif -%}
    {%- set q = p - 0.5 -%}
    {%- set r = q * q -%}
    {{ return((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)) }}
{%- endmacro %}


{#- z of the two-sided test at var('measurement_alpha'): 1.959964 for 0.05. -#}
{% macro measurement_critical_z() -%}
    {{ return(measurement_normal_quantile(1 - (var('measurement_alpha', 0.05) | float) / 2)) }}
{%- endmacro %}


{#- z of the power, var('measurement_power'): 0.841621 for 0.8. -#}
{% macro measurement_power_z() -%}
    {{ return(measurement_normal_quantile(var('measurement_power', 0.8) | float)) }}
{%- endmacro %}


{#-
  Two-sided p-value of a standard normal statistic z: 2 * (1 - Phi(|z|)) =
  erfc(|z| / sqrt(2)), with erfc from Abramowitz & Stegun 7.1.26 (absolute
  error < 1.5e-7): erfc(x) = t * (a1 + t * (a2 + ...)) * exp(-x^2),
  t = 1 / (1 + 0.3275911 x); at most 1 (the coefficients sum to 1 - 1e-9).
  Null when z is null.
-#}
{% macro measurement_two_sided_p_value(z) -%}
    {%- set x = '(abs(' ~ z ~ ') / 1.4142135623730951)' -%}
    {%- set t = '(1.0 / (1.0 + 0.3275911 * ' ~ x ~ '))' -%}
    ({{ t }} * (0.254829592 + {{ t }} * (-0.284496736 + {{ t }} * (1.421413741
        + {{ t }} * (-1.453152027 + {{ t }} * 1.061405429)))) * exp(-{{ x }} * {{ x }}))
{%- endmacro %}


{#- The standard normal CDF Phi(z), from the same approximation. -#}
{% macro measurement_normal_cdf(z) -%}
    case
        when {{ z }} >= 0 then 1.0 - 0.5 * {{ measurement_two_sided_p_value(z) }}
        else 0.5 * {{ measurement_two_sided_p_value(z) }}
    end
{%- endmacro %}


{#-
  Welch's t statistic mapped to a standard normal z (Wallace 1959):
  z = (8 df + 1) / (8 df + 3) * sqrt(df * ln(1 + t^2 / df)), sign of t kept.
  Two-sided p-values from it differ from the exact t distribution's by less
  than 2e-4 at 10 degrees of freedom and 2.5e-5 at 30, so the Welch test
  needs no t-distribution function in SQL.
-#}
{% macro measurement_t_to_z(t, df) -%}
    case
        when {{ t }} is null or {{ df }} is null or {{ df }} <= 0 then null
        else
            (case when {{ t }} < 0 then -1.0 else 1.0 end)
            * (8.0 * {{ df }} + 1.0) / (8.0 * {{ df }} + 3.0)
            * sqrt({{ df }} * ln(1.0 + {{ t }} * {{ t }} / {{ df }}))
    end
{%- endmacro %}


{#- The inverse of measurement_t_to_z: the t quantile whose normal
    equivalent is the (positive) z, e.g. the critical t of a Welch interval. -#}
{% macro measurement_t_quantile(z, df) -%}
    case
        when {{ df }} is null or {{ df }} <= 0 then null
        else sqrt({{ df }} * (exp(power({{ z }} * (8.0 * {{ df }} + 3.0) / (8.0 * {{ df }} + 1.0), 2) / {{ df }}) - 1.0))
    end
{%- endmacro %}


{#- Sample variance from a count, a sum and a sum of squares (null below 2
    observations; a tiny negative rounding residue counts as 0). -#}
{% macro measurement_variance(n, total, total_of_squares) -%}
    case
        when {{ n }} >= 2 and {{ total }} is not null and {{ total_of_squares }} is not null then
            greatest(
                0.0,
                (cast({{ total_of_squares }} as {{ measurement_type_double() }})
                    - cast({{ total }} as {{ measurement_type_double() }}) * {{ total }} / {{ n }})
                / ({{ n }} - 1)
            )
    end
{%- endmacro %}


{#-
  The per-assignment variance an arm's Welch test uses for a mean: its own
  sample variance, except that an arm with none (every outcome equal, e.g.
  nobody in it bought) while the other arm has some takes the other arm's -
  the variance it would have under the null of no effect. A zero-variance
  arm is not a mean known without error: Welch's test would use the other
  arm's variance alone and call a small such arm (a few dozen customers who
  happened not to buy) significant far more often than alpha. Both arms
  without variance stay 0 (no test: no variance in either arm).
-#}
{% macro measurement_null_variance(own, other) -%}
    case when {{ own }} = 0 and {{ other }} > 0 then {{ other }} else {{ own }} end
{%- endmacro %}


{#- A double-precision float: dbt.type_float() is single precision on DuckDB
    and Spark ('float'), too coarse for sums of squares of revenue. -#}
{% macro measurement_type_double() -%}
    {{ return(adapter.dispatch('measurement_type_double', 'customer_intelligence')()) }}
{%- endmacro %}

{% macro default__measurement_type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__measurement_type_double() -%}
    double
{%- endmacro %}

{% macro spark__measurement_type_double() -%}
    double
{%- endmacro %}

{% macro bigquery__measurement_type_double() -%}
    float64
{%- endmacro %}
