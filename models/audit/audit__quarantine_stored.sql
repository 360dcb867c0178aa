{#-
  The refused rows of the raw tables that store none of their own (every table
  but web.events, whose refused rows base_web__events_quarantined stores with
  their raw text): decided again on every run from their base views, stored
  here once with their raw values as JSON. audit__quarantine shows these and
  the stored ones together; read that.
-#}
with

final as (
    {{ quarantine_rows(raw_tables() | rejectattr('quarantine_model', 'defined') | list) }}
)

select * from final
