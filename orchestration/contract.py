"""The raw data contract: every raw table, its columns, types and meaning.

One definition serves three readers: the sample-data generator writes files in
exactly this shape, the dbt sources' YAML documents the same columns (a test
keeps the two equal), and a newcomer reads it to bring their own data.
Types are the *logical* types; staging parses every column from text, so a
CSV export with everything quoted is as valid as typed Parquet.
Few companies have every table: the generator's shapes write subsets of them
(orchestration.devtools.sample_data.shapes), and shop.exchange_rates exists only where
orders come in more than one currency.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RawColumn:
    name: str
    logical_type: str  # string | integer | number | boolean | date | timestamp
    description: str


@dataclass(frozen=True)
class RawTable:
    source: str
    name: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[RawColumn, ...]
    # False for a table the build reads but never stores (erasure requests: keeping the list of
    # erased persons in the warehouse would itself keep their identifiers). It has no staged
    # relation, no reconciliation row and no staging checks.
    staged: bool = True

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def qualified_name(self) -> str:
        return f"{self.source}.{self.name}"


def _c(name: str, logical_type: str, description: str) -> RawColumn:
    return RawColumn(name, logical_type, description)


TS_NOTE = "ISO-8601; without an offset it is read as UTC"

RAW_TABLES: tuple[RawTable, ...] = (
    RawTable(
        "shop",
        "customers",
        "one row per customer record version",
        ("customer_id", "updated_at"),
        (
            _c("customer_id", "string", "Shop account id. One person may own two accounts."),
            _c("email", "string", "Email as typed by the customer; any case and spacing."),
            _c("phone", "string", "Phone as typed; any punctuation; may include a country code."),
            _c("first_name", "string", "Given name."),
            _c("last_name", "string", "Family name."),
            _c("birth_date", "date", "Date of birth (YYYY-MM-DD)."),
            _c("postal_code", "string", "Postal code of the current address."),
            _c("city", "string", "City of the current address."),
            _c("country", "string", "ISO 3166-1 alpha-2 country code."),
            _c("created_at", "timestamp", f"When the account was created; {TS_NOTE}."),
            _c("updated_at", "timestamp", f"When this version of the record was written; {TS_NOTE}."),
        ),
    ),
    RawTable(
        "shop",
        "products",
        "one row per product",
        ("product_id",),
        (
            _c("product_id", "string", "Product id (SKU)."),
            _c("name", "string", "Product name."),
            _c("category", "string", "Top-level category."),
            _c("subcategory", "string", "Subcategory within the category."),
            _c("brand", "string", "Brand name."),
            _c("list_price", "number", "Current list price per unit, in the shop currency."),
            _c("unit_cost", "number", "Cost of goods per unit, in the shop currency."),
        ),
    ),
    RawTable(
        "shop",
        "orders",
        "one row per order",
        ("order_id",),
        (
            _c("order_id", "string", "Order id."),
            _c("customer_id", "string", "Account that placed the order; null for guest checkouts."),
            _c("email", "string", "Checkout email (set for guests, often for accounts too)."),
            _c("channel", "string", "Sales channel: web, app or store."),
            _c("store_id", "string", "Store id for store orders; null online."),
            _c("ordered_at", "timestamp", f"When the order was placed; {TS_NOTE}."),
            _c("currency", "string", "ISO 4217 currency code."),
            _c("status", "string", "placed, completed, cancelled or returned."),
        ),
    ),
    RawTable(
        "shop",
        "order_lines",
        "one row per order line",
        ("order_id", "line_number"),
        (
            _c("order_id", "string", "Order the line belongs to."),
            _c("line_number", "integer", "Line number within the order, from 1."),
            _c("product_id", "string", "Product sold."),
            _c("quantity", "integer", "Units sold (positive)."),
            _c("unit_price", "number", "Price per unit charged before the line discount."),
            _c("discount_amount", "number", "Discount on the whole line (non-negative)."),
        ),
    ),
    RawTable(
        "shop",
        "returns",
        "one row per returned order line",
        ("return_id",),
        (
            _c("return_id", "string", "Return id."),
            _c("order_id", "string", "Order the returned goods came from."),
            _c("product_id", "string", "Product returned."),
            _c("quantity", "integer", "Units returned (positive)."),
            _c("refund_amount", "number", "Amount refunded (non-negative)."),
            _c("returned_at", "timestamp", f"When the return was registered; {TS_NOTE}."),
            _c("reason", "string", "Return reason as recorded."),
        ),
    ),
    RawTable(
        "shop",
        "exchange_rates",
        "one row per currency and rate date",
        ("currency", "rate_date"),
        (
            _c("currency", "string", "ISO 4217 code of the currency converted from (e.g. GBP)."),
            _c(
                "rate_date",
                "date",
                "First day the rate applies (YYYY-MM-DD); it holds until the currency's next rate_date.",
            ),
            _c(
                "rate",
                "number",
                "Units of the reporting currency for one unit of `currency` (1 for the reporting currency).",
            ),
        ),
    ),
    RawTable(
        "web",
        "events",
        "one row per behavioural event on the website or app",
        ("event_id",),
        (
            _c("event_id", "string", "Event id."),
            _c("anonymous_id", "string", "Cookie or device id; stable per browser/device."),
            _c("user_id", "string", "Shop customer_id when the visitor is logged in; else null."),
            _c(
                "event_name",
                "string",
                "Event name as the tracker records it; seeds/web_event_types.csv maps it to page_view,"
                " product_view, search, add_to_cart, checkout_started, purchase or login.",
            ),
            _c("occurred_at", "timestamp", f"When the event happened; {TS_NOTE}."),
            _c("page_url", "string", "Page URL."),
            _c("product_id", "string", "Product concerned (product views, carts)."),
            _c("search_term", "string", "Search text (search events)."),
            _c("referrer", "string", "Referring URL."),
            _c("utm_source", "string", "Campaign source tag."),
            _c("utm_medium", "string", "Campaign medium tag."),
            _c("utm_campaign", "string", "Campaign name tag."),
            _c("device_type", "string", "desktop, mobile or tablet."),
            _c("os", "string", "Operating system."),
            _c("browser", "string", "Browser or app."),
            _c("country", "string", "ISO 3166-1 alpha-2 country of the visitor."),
            _c("timezone", "string", "IANA time zone of the visitor's device."),
        ),
    ),
    RawTable(
        "crm",
        "consents",
        "one row per consent change",
        ("customer_id", "channel", "changed_at"),
        (
            _c("customer_id", "string", "Shop account id."),
            _c("channel", "string", "email, sms, push, post or phone."),
            _c("is_granted", "boolean", "true when consent was given, false when withdrawn."),
            _c("changed_at", "timestamp", f"When the consent changed; {TS_NOTE}."),
            _c(
                "source",
                "string",
                "Where the change came from (signup, preference_centre, unsubscribe_link, call_centre).",
            ),
        ),
    ),
    RawTable(
        "crm",
        "loyalty_members",
        "one row per loyalty membership",
        ("member_id",),
        (
            _c("member_id", "string", "Loyalty card / member id."),
            _c("customer_id", "string", "Shop account id of the member."),
            _c("joined_at", "timestamp", f"When the membership started; {TS_NOTE}."),
            _c("tier", "string", "bronze, silver or gold."),
            _c("points_balance", "integer", "Current points balance."),
            _c("left_at", "timestamp", f"When the membership ended; null while active; {TS_NOTE}."),
        ),
    ),
    RawTable(
        "crm",
        "service_cases",
        "one row per service contact",
        ("case_id",),
        (
            _c("case_id", "string", "Case id."),
            _c("customer_id", "string", "Shop account id."),
            _c("channel", "string", "phone, email, chat or store."),
            _c("reason", "string", "Contact reason."),
            _c("opened_at", "timestamp", f"When the case was opened; {TS_NOTE}."),
            _c("resolved_at", "timestamp", f"When the case was resolved; null while open; {TS_NOTE}."),
            _c("satisfaction", "integer", "Satisfaction score 1-5 given at resolution; may be null."),
        ),
    ),
    RawTable(
        "crm",
        "surveys",
        "one row per survey answer",
        ("response_id",),
        (
            _c("response_id", "string", "Response id."),
            _c("customer_id", "string", "Shop account id."),
            _c("nps_score", "integer", "Likelihood to recommend, 0-10."),
            _c("touchpoint", "string", "What the survey followed: post_purchase, service or periodic."),
            _c("answered_at", "timestamp", f"When the answer was given; {TS_NOTE}."),
        ),
    ),
    RawTable(
        "crm",
        "erasure_requests",
        "one row per identifier named in an erasure (right to be forgotten) request",
        ("request_id", "identifier_type", "identifier_value"),
        (
            _c(
                "request_id", "string", "Request id; one request may name several identifiers (one row each)."
            ),
            _c("requested_at", "timestamp", f"When the person asked to be erased; {TS_NOTE}."),
            _c(
                "identifier_type",
                "string",
                "Which identifier the request names: a type of seeds/identity_identifier_types.csv"
                " (customer_id, email, phone, member_id, anonymous_id, ...).",
            ),
            _c(
                "identifier_value",
                "string",
                "The identifier as the person gave it; emails and phones are normalised as staging"
                " normalises them. Every identifier linked to it is erased too (docs/privacy.md).",
            ),
        ),
        staged=False,
    ),
    RawTable(
        "marketing",
        "communications",
        "one row per message sent",
        ("send_id",),
        (
            _c("send_id", "string", "Send id."),
            _c("customer_id", "string", "Shop account id of the recipient."),
            _c("campaign_id", "string", "Campaign id."),
            _c("treatment_code", "string", "Treatment (message/offer) code."),
            _c("channel", "string", "email, sms, push, post or phone."),
            _c("sent_at", "timestamp", f"When the message was sent; {TS_NOTE}."),
            _c("delivered_at", "timestamp", f"When it was delivered; null if not; {TS_NOTE}."),
            _c("opened_at", "timestamp", f"First open; null if not opened; {TS_NOTE}."),
            _c("clicked_at", "timestamp", f"First click; null if not clicked; {TS_NOTE}."),
            _c("unsubscribed_at", "timestamp", f"Unsubscribe from this message; {TS_NOTE}."),
        ),
    ),
    RawTable(
        "marketing",
        "assignments",
        "one row per customer in a randomized campaign run outside the warehouse",
        ("assignment_id",),
        (
            _c("assignment_id", "string", "Assignment id."),
            _c("customer_id", "string", "Shop account id."),
            _c("campaign_id", "string", "Campaign id."),
            _c(
                "treatment_code",
                "string",
                "Treatment code tested (the arm); empty on a control row: the shared control of every arm"
                " of its campaign.",
            ),
            _c("group", "string", "treatment or control."),
            _c("assigned_at", "timestamp", f"When the customer was randomized; {TS_NOTE}."),
        ),
    ),
)

ERASURE_REQUESTS = "crm.erasure_requests"
TABLES_BY_NAME: dict[str, RawTable] = {t.qualified_name: t for t in RAW_TABLES}


def raw_table(source: str, name: str) -> RawTable:
    """Look up a raw table by source and table name."""
    return TABLES_BY_NAME[f"{source}.{name}"]
