{#- Every raw row of web.events with its staging decision (macros/staging/web_events_decision.sql). -#}
{{ web_events_decision() }}
