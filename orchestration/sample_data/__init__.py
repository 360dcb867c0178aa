"""Sample-data generator for the customer intelligence warehouse.

    from orchestration.sample_data import generate, GeneratorConfig
    summary = generate(GeneratorConfig(customers=500, seed=7, out=Path("data/raw"), faults=True))

What the staging layer can rely on:

* Layout: DIR/<source>/<table>/part-00000.<parquet|csv> for every table of
  `orchestration.contract`, columns exactly as the contract says, in its order. With faults,
  late-arriving rows of shop.orders, shop.order_lines and web.events are in
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

Output is byte-identical for identical arguments (whatever the number of workers) and is built
in chunks of 50,000 persons, so memory stays bounded at any number of customers.
"""

from orchestration.sample_data.config import GeneratorConfig
from orchestration.sample_data.generator import GenerationSummary, generate

__all__ = ["GenerationSummary", "GeneratorConfig", "generate"]
