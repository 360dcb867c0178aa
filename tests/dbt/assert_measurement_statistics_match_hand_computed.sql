{#-
  The statistics macros of the measurement layer against values computed by
  hand (scipy.stats, to the digits shown); a row is a check that is off by
  more than its tolerance. Cases:
  - a 2x2 conversion table, 200/1000 treated vs 150/1000 control: pooled z
    2.9424494, two-sided p 0.0032563 (A-S 7.1.26 is good to 1.5e-7);
  - Welch's t-test, treated n 50 mean 12 sd 4 (sum 600, sum of squares 7984)
    vs control n 40 mean 10 sd 5 (400, 4975): variance 16 and 25, t 2.0573780,
    df 73.768228, p 0.0431849, critical t 1.9926475 (Wallace's approximation
    is good to about 1e-5 there);
  - the compile-time normal quantiles and the normal CDF.
  Unit tests of int_measurement__effect_statistics and treatment_effects check the
  flags and verdicts built on them.
-#}
{%- set z_2x2 = '((0.2 - 0.15) / sqrt(0.175 * 0.825 * (1.0 / 1000 + 1.0 / 1000)))' -%}
{%- set var_t = measurement_variance('50.0', '600.0', '7984.0') -%}
{%- set var_c = measurement_variance('40.0', '400.0', '4975.0') -%}
{%- set se_welch = '(sqrt(16.0 / 50 + 25.0 / 40))' -%}
{%- set t_welch = '(2.0 / ' ~ se_welch ~ ')' -%}
{%- set df_welch = '(power(16.0 / 50 + 25.0 / 40, 2) / (power(16.0 / 50, 2) / 49 + power(25.0 / 40, 2) / 39))' -%}
with

checks as (
    select '2x2 z' as check_name, {{ z_2x2 }} as computed, 2.9424494 as expected, 1e-6 as tolerance
    union all
    select
        '2x2 two-sided p' as check_name,
        {{ measurement_two_sided_p_value(z_2x2) }} as computed,
        0.0032563 as expected,
        1e-6 as tolerance
    union all
    select
        'welch treated variance' as check_name,
        {{ var_t }} as computed,
        16.0 as expected,
        1e-9 as tolerance
    union all
    select
        'welch control variance' as check_name,
        {{ var_c }} as computed,
        25.0 as expected,
        1e-9 as tolerance
    union all
    select
        'welch t' as check_name,
        {{ t_welch }} as computed,
        2.0573780 as expected,
        1e-6 as tolerance
    union all
    select
        'welch degrees of freedom' as check_name,
        {{ df_welch }} as computed,
        73.768228 as expected,
        1e-5 as tolerance
    union all
    select
        'welch two-sided p' as check_name,
        {{ measurement_two_sided_p_value(measurement_t_to_z(t_welch, df_welch)) }} as computed,
        0.0431849 as expected,
        2e-5 as tolerance
    union all
    select
        'welch critical t (97.5%)' as check_name,
        {{ measurement_t_quantile(measurement_critical_z(), df_welch) }} as computed,
        1.9926475 as expected,
        1e-4 as tolerance
    union all
    select
        'critical z of alpha 0.05' as check_name,
        {{ measurement_normal_quantile(0.975) }} as computed,
        1.9599640 as expected,
        1e-6 as tolerance
    union all
    select
        'z of power 0.8' as check_name,
        {{ measurement_normal_quantile(0.8) }} as computed,
        0.8416212 as expected,
        1e-6 as tolerance
    union all
    select
        'normal quantile 0.995 (tail)' as check_name,
        {{ measurement_normal_quantile(0.995) }} as computed,
        2.5758293 as expected,
        1e-6 as tolerance
    union all
    select
        'normal quantile 0.01 (tail)' as check_name,
        {{ measurement_normal_quantile(0.01) }} as computed,
        -2.3263479 as expected,
        1e-6 as tolerance
    union all
    select
        'normal cdf at 1' as check_name,
        {{ measurement_normal_cdf('1.0') }} as computed,
        0.8413447 as expected,
        1e-6 as tolerance
    union all
    select
        'normal cdf at -2.5' as check_name,
        {{ measurement_normal_cdf('-2.5') }} as computed,
        0.0062097 as expected,
        1e-6 as tolerance
    union all
    select
        'p-value at z 0' as check_name,
        {{ measurement_two_sided_p_value('0.0') }} as computed,
        1.0 as expected,
        1e-6 as tolerance

)

select
    check_name,
    computed,
    expected,
    tolerance
from checks
where computed is null or abs(computed - expected) > tolerance
