{#-
  Stacks relations (usually CTEs) that each compute some of a set of columns
  with union all, every branch padded to the same columns in the same order:
  - branches: a mapping of relation -> the padded columns it computes itself;
  - keys: columns every branch has, first in the output;
  - padded: the other columns, in output order, as a list (each gets
    `default` where a branch lacks it) or as a mapping column -> default.
  So a branch names only what it computes (a KPI branch its measures, an event
  branch its context), and adding a column is one entry here, not one line per
  branch.
-#}
{% macro union_padded(branches, keys, padded, default='null') -%}
    {%- set defaults = {} -%}
    {%- for name in padded -%}
        {%- do defaults.update({name: padded[name] if padded is mapping else default}) -%}
    {%- endfor -%}
    {%- for relation, computed in branches.items() %}
        {%- for name in computed if name not in defaults %}
            {{ exceptions.raise_compiler_error("union_padded: " ~ relation ~ " names " ~ name
                ~ ", which is not one of the padded columns") }}
        {%- endfor %}
        {%- set expressions = keys | list %}
        {%- for name, value in defaults.items() %}
            {%- do expressions.append(name if name in computed else value ~ ' as ' ~ name) %}
        {%- endfor %}
        select
            {{ expressions | join(',\n            ') }}
        from {{ relation }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
