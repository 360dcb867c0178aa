{#- The date this build was computed as of, for anyone reading its outputs. -#}
select
    {{ as_of_date_literal() }} as as_of_date,
    '{{ "configured" if var("as_of", none) is not none else "latest data" }}' as as_of_source
