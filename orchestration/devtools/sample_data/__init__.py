"""Sample-data generator for the customer intelligence warehouse.

    from orchestration.devtools.sample_data import generate, GeneratorConfig
    summary = generate(GeneratorConfig(customers=500, seed=7, out=Path("data/raw"), faults=True))

What the staging layer can rely on:

* Layout: DIR/<source>/<table>/part-00000.<parquet|csv> for every table of the shape (see
  below; `orchestration.contract` lists them all), columns exactly as the contract says, in
  its order. With faults, late-arriving rows of shop.orders, shop.order_lines and web.events are in
  part-00001-late.<ext> (same schema); shop.orders gains `legacy_channel_code` and web.events
  gains `ip_address` as last columns. Ground truth lives in DIR/_truth (never read by dbt).
* Parquet types: string, int64, float64 (money rounded to cents), bool, date32 and
  timestamp[us, UTC]. With faults these columns are text in every file: shop.orders.ordered_at,
  shop.order_lines.quantity, shop.products.list_price, shop.returns.returned_at,
  web.events.occurred_at, crm.surveys.nps_score. Valid timestamp text is
  'YYYY-MM-DD HH:MM:SS' (UTC); about 5% of it is the same instant as local time with an offset,
  'YYYY-MM-DDTHH:MM:SS+01:00' (offsets +01:00, +02:00, -05:00, +05:30).
* CSV: header row, timestamps as 'YYYY-MM-DD HH:MM:SS' (UTC), dates 'YYYY-MM-DD', booleans
  true/false, empty unquoted field for null, text quoted.
* Every clean instant lies in [end_date - history_days, end_date) with end_date at 00:00 UTC.

Planted causal effects (effects.py; GeneratorConfig(effects=False) or --no-effects turns them
off, leaving the same persons, experiments and memberships):

* marketing.assignments holds four randomized campaigns (config RCT_CAMPAIGNS; one assignment
  per person and campaign, 70% treatment). Treated customers alive in the purchase process at
  assigned_at may make one incremental purchase within 30 days and their orders in that window
  change value, by treatment, needs segment and planted value tier; RCT-04 (NEWSLETTER) has a
  zero effect. Treated customers consenting to the campaign's channel also get its message in
  marketing.communications (campaign_id RCT-xx); controls get none.
* A quarter of loyalty members buy at a higher rate after joining; the others do not change.
* Truth: _truth/treatment_effects.parquet (per campaign, segment, value tier and cell),
  _truth/assignment_outcomes.parquet (per assignment: untreated outcome, expected effect,
  realized outcome), _truth/loyalty_effect.parquet (per member), the source of every purchase
  in _truth/orders.parquet, and summaries in purchase_process.json and manifest.json. The
  added purchases are about 2% of all purchases; person_parameters keeps the BG/NBD truth.

Shapes (GeneratorConfig(shape=...) or --shape; shapes.py): the same persons and purchases seen
through different companies. `full` (default) writes every table above except
shop.exchange_rates; `orders_only` writes shop.customers/orders/order_lines/products only, with
about a quarter of the orders by anonymous walk-ins (no customer_id, no email), products
without category, subcategory and unit_cost, and 'YYYY-MM-DD' text for orders.ordered_at and
customers.created_at/updated_at; `experiment` renames the categories (a music shop), moves ~11%
of the orders to the channels 'phone' and 'telesales', and adds campaign EXT-01 to
marketing.assignments: two arms (EXT_ARM_A with an effect, EXT_ARM_B without) against one shared
control group whose rows have a null treatment_code; `multi_currency` writes orders in EUR, GBP
and USD (amounts in the order's currency) and shop.exchange_rates (EUR per unit, monthly, EUR
rows included). Every shape writes _truth/shape.json (revenue identified / unidentified,
Pareto shares on identified persons, BG/NBD and Gamma-Gamma parameters, revenue per currency,
and the shape's own section). The output folder must be absent, empty or one the
generator made (_truth/manifest.json lists every file it wrote); anything else is refused
(ForeignFolderError). Regenerating removes only the listed files, never anyone else's.

Output is byte-identical for identical arguments (whatever the number of workers) and is built
in chunks of 50,000 persons, so memory stays bounded at any number of customers.
"""

from orchestration.devtools.sample_data.config import GeneratorConfig
from orchestration.devtools.sample_data.generator import GenerationSummary, generate

__all__ = ["GenerationSummary", "GeneratorConfig", "generate"]
