"""What the simulated customers do with the messages the channel tools sent: the planted responses.

Each sent message becomes a marketing.communications row (with its delivery, open, click and
unsubscribe drawn as the generator draws them). Its response comes from the generator's own
treatment model (`sample_data.effects.draw_responses`, the model behind the planted RCT effects),
with the activation code mapped to an effect model by config.EFFECT_MODEL:

- only a customer alive in the planted purchase process at the send responds;
- a response opens the treatment's response window (30 days): one incremental purchase with
  probability q of the customer's (needs segment, value tier) cell, and every order of the
  customer in the window worth (1 + m) times its untreated value;
- an offer already running does not start again: a message of a treatment whose window is
  still open for that customer (a weekly re-send of the same win-back) changes nothing more.
  So effects never compound within a treatment, only across treatments.

Controls (holdouts) are never synced, so they never get a message or a response. Draws come
from one stream per step, over the step's sends in a fixed order, so a seed fixes every
response. Everything is appended as new raw part files (part-sim-<run date>.parquet); the
spend changes rewrite lines of future orders (orderbook.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.devtools.sample_data.arrays import categorical_rows
from orchestration.devtools.sample_data.baskets import build_baskets
from orchestration.devtools.sample_data.config import (
    CHANNELS,
    CLICK_RATE,
    DELIVERY_RATE,
    OPEN_RATE,
    STORES_PER_COUNTRY,
)
from orchestration.devtools.sample_data.effects import Deliveries, draw_responses
from orchestration.devtools.sample_data.orders import SHOP_CURRENCY
from orchestration.devtools.simulation.config import (
    SIMULATION_STREAM,
    SimulationConfig,
    effect_index,
    effect_model,
)
from orchestration.devtools.simulation.orderbook import ORDERS_DIR, OrderBook, epoch_seconds, write_atomic
from orchestration.devtools.simulation.population import Population

POST_DELIVERY_RATE = 0.97  # letters lost in the post
PHONE_REACH_RATE = 0.60  # calls answered
CHECKOUT_EMAIL_SHARE = 0.6  # as the generator: account orders that also carry the checkout email
SEND_SPREAD_SECONDS = 7_200  # a send goes out within the two-hour send window
NEVER = -1


@dataclass(frozen=True)
class StepResponses:
    """One step's sends with their drawn responses, and the raw tables they add."""

    sends: pd.DataFrame  # one row per sent message (the simulation's truth of deliveries)
    orders: pa.Table
    order_lines: pa.Table
    communications: pa.Table
    consents: pa.Table
    spend_changes: pd.DataFrame


class Responder:
    """Turns sent messages into raw rows, remembering which offers are running for whom."""

    def __init__(self, config: SimulationConfig, population: Population, book: OrderBook) -> None:
        self.config = config
        self.population = population
        self.book = book
        self.raw = config.raw_path
        self.running: dict[tuple[int, str], int] = {}  # (person, treatment) -> window end, epoch s
        self.schemas = {
            name: pq.read_schema(self.raw / name / "part-00000.parquet")
            for name in ("shop/orders", "shop/order_lines", "marketing/communications", "crm/consents")
        }

    def respond(
        self, sends: pd.DataFrame, keys: pd.DataFrame, run_date: date, step: int, visible_until: int
    ) -> StepResponses:
        """Responses to the step's sends; `keys` maps customer_key -> person, customer_id."""
        rng = np.random.default_rng(np.random.SeedSequence([self.config.seed, SIMULATION_STREAM, step]))
        tag = run_date.strftime("%Y%m%d")
        sends = sends.merge(keys, left_on="customer_key", right_index=True, how="left")
        sends = sends.sort_values(["send_at", "channel", "customer_key", "treatment_code"], ignore_index=True)
        sends["is_reachable"] = sends.person.notna()
        sends["person"] = sends.person.fillna(-1).astype(np.int64)
        sends["send_id"] = [f"SNDSIM{tag}{i:06d}" for i in range(1, len(sends) + 1)]
        sends["sent_at"] = epoch_seconds(sends.send_at) + rng.integers(0, SEND_SPREAD_SECONDS, len(sends))
        sends["effect_model"] = [effect_model(code) for code in sends.treatment_code]

        drawn = self._draw(rng, sends)
        orders, lines, made = self._incremental_orders(rng, drawn, tag)
        drawn["order_id"] = made.set_index("send_id").order_id.reindex(drawn.send_id).to_numpy()
        self.book.add(made, lines.to_pandas(), f"part-sim-{tag}.parquet")
        windows = drawn[drawn.is_effective & (drawn.spend_change != 0)]
        spend = self.book.scale(
            pd.DataFrame(
                {
                    "send_id": windows.send_id,
                    "person": windows.person,
                    "treatment_code": windows.treatment_code,
                    "start": windows.sent_at,
                    "end": windows.window_end,
                    "factor": 1.0 + windows.spend_change,
                }
            ),
            visible_until,
        )
        communications, consents = self._messages(rng, drawn[drawn.is_reachable])
        return StepResponses(drawn, orders, lines, communications, consents, spend)

    def _draw(self, rng: np.random.Generator, sends: pd.DataFrame) -> pd.DataFrame:
        """The planted model for every reachable send; then the running-offer rule, in send order."""
        reach = sends.is_reachable.to_numpy()
        person = np.where(reach, sends.person.to_numpy(), 0)
        deliveries = Deliveries(
            person=person,
            treatment=np.array([effect_index(c) for c in sends.treatment_code], dtype=np.int64),
            at=sends.sent_at.to_numpy(),
        )
        world = self.population.world
        resp = draw_responses(
            rng,
            self.population.state,
            deliveries,
            world.end_epoch,
            world.config.gamma_gamma.p,
            self.config.window_days,
            self.config.delay_days,
        )
        until = np.minimum(resp.window_end, self.population.state.dropout[person])
        responsive = resp.responsive & reach
        running = np.zeros(len(sends), bool)
        for i, (p, code, at) in enumerate(zip(person, sends.treatment_code, deliveries.at, strict=True)):
            if not reach[i]:
                continue
            if self.running.get((int(p), code), NEVER) > at:
                running[i] = True
            elif responsive[i]:
                self.running[(int(p), code)] = int(resp.window_end[i])
        effective = responsive & ~running
        out = sends.copy()
        out["is_responsive"] = responsive
        out["is_offer_running"] = running
        out["is_effective"] = effective
        out["purchase_probability"] = np.where(effective, resp.purchase_probability, 0.0)
        out["spend_change"] = np.where(effective, resp.spend_change, 0.0)
        out["window_end"] = resp.window_end
        out["effect_until"] = until
        out["purchased"] = effective & resp.purchased
        out["purchase_at"] = np.where(out.purchased, resp.purchase_at, NEVER)
        out["purchase_cents"] = np.where(out.purchased, resp.purchase_cents, 0)
        out["mean_order"] = self.population.mean_order[person]
        return out

    def _incremental_orders(
        self, rng: np.random.Generator, drawn: pd.DataFrame, tag: str
    ) -> tuple[pa.Table, pa.Table, pd.DataFrame]:
        """The incremental purchases as raw orders and lines (a basket worth the drawn value)."""
        buys = drawn[drawn.purchased].sort_values(["purchase_at", "send_id"])
        n = len(buys)
        person = buys.person.to_numpy()
        order_id = [f"OSIM{tag}{i:06d}" for i in range(1, n + 1)]
        world = self.population.world
        segment = self.population.state.segment[person]
        baskets = build_baskets(
            rng, world.catalog, world.segments, segment, buys.purchase_cents.to_numpy(dtype=np.int64)
        )
        country = self.population.country[person]
        channel = categorical_rows(rng, world.segments.channel, segment) if n else np.zeros(0, np.int64)
        store = country * STORES_PER_COUNTRY + rng.integers(0, STORES_PER_COUNTRY, n)
        show_email = rng.random(n) < CHECKOUT_EMAIL_SHARE
        customer_id = buys.customer_id.to_numpy()
        email = self.population.account_email.reindex(customer_id).to_numpy()
        is_store = channel == CHANNELS.index("store")
        orders = pa.Table.from_pydict(
            {
                "order_id": order_id,
                "customer_id": customer_id.tolist(),
                "email": [
                    e if show and isinstance(e, str) else None
                    for e, show in zip(email, show_email, strict=True)
                ],
                "channel": [CHANNELS[c] for c in channel],
                "store_id": [f"S{s + 1:02d}" if st else None for s, st in zip(store, is_store, strict=True)],
                "ordered_at": pd.to_datetime(buys.purchase_at.to_numpy(), unit="s", utc=True),
                # The world's prices are in one shop currency (sample_data.orders.SHOP_CURRENCY).
                "currency": [SHOP_CURRENCY] * n,
                "status": ["completed"] * n,
            },
            schema=self.schemas["shop/orders"],
        )
        lines = pa.Table.from_pydict(
            {
                "order_id": [order_id[i] for i in baskets.order],
                "line_number": baskets.line_number.astype(np.int64),
                "product_id": world.catalog.ids.take(pa.array(baskets.product)).to_pylist(),
                "quantity": baskets.quantity.astype(np.int64),
                "unit_price": baskets.price_cents / 100.0,
                "discount_amount": baskets.discount_cents / 100.0,
            },
            schema=self.schemas["shop/order_lines"],
        )
        made = pd.DataFrame(
            {
                "send_id": buys.send_id.to_numpy(),
                "order_id": order_id,
                "person": person,
                "seconds": buys.purchase_at.to_numpy(),
                "is_cancelled": False,
                "caused_by": buys.treatment_code.to_numpy(),
            }
        )
        return orders, lines, made

    def _messages(self, rng: np.random.Generator, sends: pd.DataFrame) -> tuple[pa.Table, pa.Table]:
        """communications rows for the sent messages, and consent withdrawals from unsubscribes."""
        n = len(sends)
        end = self.population.world.end_epoch
        channel = sends.channel.to_numpy()
        engagement = self.population.world.segments.engagement[
            self.population.state.segment[sends.person.to_numpy()]
        ]
        sent = sends.sent_at.to_numpy()
        u = rng.random((5, n))
        delays = rng.integers(5, 600, n)
        open_delay = np.floor(rng.exponential(6 * 3_600, n)).astype(np.int64)
        click_delay = np.floor(rng.exponential(600, n)).astype(np.int64)
        unsub_delay = rng.integers(60, 2 * 86_400, n)
        deliver_rate = np.array(
            [DELIVERY_RATE.get(c, POST_DELIVERY_RATE if c == "post" else PHONE_REACH_RATE) for c in channel]
        )
        open_rate = np.array([OPEN_RATE.get(c, 0.0) for c in channel]) * engagement
        click_rate = np.array([CLICK_RATE.get(c, 0.0) for c in channel]) * engagement
        messaging = np.isin(channel, list(DELIVERY_RATE))
        delivered = u[0] < deliver_rate
        delivered_at = np.where(channel == "post", sent + 2 * 86_400, sent + delays)
        opened = delivered & (u[1] < open_rate)
        opened_at = delivered_at + open_delay
        sms = channel == "sms"
        clicked = np.where(sms, delivered, opened) & (u[2] < click_rate)
        clicked_at = np.where(sms, delivered_at, opened_at) + click_delay
        unsubscribed = messaging & delivered & (u[3] < self.population.world.config.rates.unsubscribe_rate)
        unsubscribed_at = np.where(opened, opened_at, delivered_at) + unsub_delay

        def stamp(happened: np.ndarray, at: np.ndarray) -> pd.DatetimeIndex:
            # Anything after the world's end has not happened yet.
            keep = happened & (at < end)
            return pd.to_datetime(np.where(keep, at, 0), unit="s", utc=True).where(keep)

        communications = pa.Table.from_pydict(
            {
                "send_id": sends.send_id.tolist(),
                "customer_id": sends.customer_id.tolist(),
                "campaign_id": [
                    f"CIW-{code}-{run}"
                    for code, run in zip(sends.treatment_code, sends.run_date, strict=True)
                ],
                "treatment_code": sends.treatment_code.tolist(),
                "channel": channel.tolist(),
                "sent_at": pd.to_datetime(sent, unit="s", utc=True),
                "delivered_at": stamp(delivered, delivered_at),
                "opened_at": stamp(opened, opened_at),
                # A click on an unopened email or push cannot happen before its open does.
                "clicked_at": stamp(clicked & (sms | (opened_at < end)), clicked_at),
                "unsubscribed_at": stamp(unsubscribed, unsubscribed_at),
            },
            schema=self.schemas["marketing/communications"],
        )
        gone = unsubscribed & (unsubscribed_at < end)
        consents = pa.Table.from_pydict(
            {
                "customer_id": sends.customer_id[gone].tolist(),
                "channel": channel[gone].tolist(),
                "is_granted": [False] * int(gone.sum()),
                "changed_at": pd.to_datetime(unsubscribed_at[gone], unit="s", utc=True),
                "source": ["unsubscribe_link"] * int(gone.sum()),
            },
            schema=self.schemas["crm/consents"],
        )
        return communications, consents

    def write(self, responses: StepResponses, run_date: date) -> dict[str, int]:
        """Append the step's raw part files and rewrite the line files whose orders changed value."""
        name = f"part-sim-{run_date.strftime('%Y%m%d')}.parquet"
        written = {}
        for folder, table in (
            ("/".join(ORDERS_DIR), responses.orders),
            ("shop/order_lines", responses.order_lines),
            ("marketing/communications", responses.communications),
            ("crm/consents", responses.consents),
        ):
            if table.num_rows:
                write_atomic(table, self.raw / folder / name)
            written[folder] = table.num_rows
        written["rewritten_line_files"] = len(self.book.write_changed())
        return written
