"""Behavioural web/app events (web.events), built session by session without per-row Python.

Sessions are rows of a session table; events are the session table repeated by its event
count, with the event type derived from the position in the session:

    page_view, [login], [search], product_view x v, [add_to_cart, checkout_started], [purchase]

Purchase sessions end with the purchase event exactly at the order's ordered_at and view the
order's products; browse sessions (about two per order, more for tech_enthusiasts and
style_seekers) view products of the segment's mix and sometimes abandon a cart. Events before a
login are anonymous; so a cookie stays anonymous until someone logs in on it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.devtools.sample_data.accounts import Accounts
from orchestration.devtools.sample_data.arrays import (
    categorical,
    categorical_rows,
    dict_column,
    rank_within,
    starts_of,
    ts_array,
)
from orchestration.devtools.sample_data.campaigns import Campaigns
from orchestration.devtools.sample_data.config import CATEGORIES, CHANNELS, COUNTRIES
from orchestration.devtools.sample_data.cookies import (
    APP_SLOT,
    BROWSER_NAMES,
    DEVICE_NAMES,
    OS_NAMES,
    SECOND_SLOT,
    SHARED_SLOT,
    SLOTS,
    Cookies,
)
from orchestration.devtools.sample_data.orders import Orders, chunk_ids
from orchestration.devtools.sample_data.persons import (
    ANONYMOUS,
    GUEST_BUYER,
    PROSPECT,
    Persons,
    hours_of_habit,
    weekday_days,
)
from orchestration.devtools.sample_data.purchases import PurchaseProcess
from orchestration.devtools.sample_data.vocab import SEARCH_TERMS
from orchestration.devtools.sample_data.world import World

EVENT_NAMES = ("page_view", "login", "search", "product_view", "add_to_cart", "checkout_started", "purchase")
PAGE_VIEW, LOGIN, SEARCH, PRODUCT_VIEW, ADD_TO_CART, CHECKOUT, PURCHASE = range(7)
MAX_VIEWS = 4
EVENT_ID_STRIDE = 10**9
SITE = "https://shop.example.com"
REFERRERS = ("https://www.google.com/", "https://www.instagram.com/", "https://www.facebook.com/",
             "https://mail.google.com/")  # fmt: skip
REFERRER_WEIGHTS = (0.35, 0.30, 0.08, 0.07, 0.20)  # direct (no referrer), then REFERRERS in order
UTM_SOURCES = ("newsletter", "google", "instagram", "facebook")
UTM_MEDIUMS = ("email", "cpc", "social")
SEARCH_CAMPAIGNS = ("brand_search", "generic_search")
TERM_VOCAB = tuple(t for c in CATEGORIES for t in SEARCH_TERMS[c])
TERM_START = np.cumsum([0] + [len(SEARCH_TERMS[c]) for c in CATEGORIES])[:-1]
TERM_COUNT = np.array([len(SEARCH_TERMS[c]) for c in CATEGORIES])
# page_url vocabulary: fixed pages, category pages, search pages, product pages.
FIXED_PAGES = (f"{SITE}/", f"{SITE}/account/login", f"{SITE}/checkout", f"{SITE}/checkout/confirmation")
HOME, LOGIN_PAGE, CHECKOUT_PAGE, CONFIRMATION_PAGE = range(4)
CATEGORY_PAGE0 = len(FIXED_PAGES)
SEARCH_PAGE0 = CATEGORY_PAGE0 + len(CATEGORIES)
PRODUCT_PAGE0 = SEARCH_PAGE0 + len(TERM_VOCAB)


def page_vocabulary(world: World) -> pa.Array:
    products = [f"{SITE}/p/{pid}" for pid in world.catalog.ids.to_pylist()]
    categories = [f"{SITE}/c/{c}" for c in CATEGORIES]
    searches = [f"{SITE}/search?q={t.replace(' ', '+')}" for t in TERM_VOCAB]
    return pa.array([*FIXED_PAGES, *categories, *searches, *products], type=pa.string())


@dataclass(frozen=True)
class Sessions:
    person: np.ndarray
    slot: np.ndarray
    anchor: np.ndarray  # epoch seconds: end (purchase sessions) or start (browse sessions)
    order: np.ndarray  # order position for purchase sessions, -1 otherwise
    user_account: np.ndarray  # account index when logged in, -1 otherwise
    search: np.ndarray
    cart: np.ndarray
    n_views: np.ndarray
    products: np.ndarray  # (sessions, MAX_VIEWS) internal product indices

    @property
    def is_purchase(self) -> np.ndarray:
        return self.order >= 0

    @property
    def logged_in(self) -> np.ndarray:
        return self.user_account >= 0


@dataclass(frozen=True)
class WebEvents:
    table: pa.Table
    order: np.ndarray  # per event: order position of its purchase session, -1 otherwise
    person: np.ndarray  # per event: local person index
    product: np.ndarray  # per event: internal product index, -1 when none
    cookie_pairs: tuple[np.ndarray, np.ndarray]  # unique (flat cookie index, person) that occur


def _segment_products(world: World, rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    cat = world.catalog
    cell = categorical_rows(rng, world.segments.category, segment) * 3 + categorical_rows(
        rng, world.segments.tier, segment
    )
    return cat.cell_start.ravel()[cell] + np.floor(
        rng.random(len(segment)) * cat.cell_count.ravel()[cell]
    ).astype(np.int64)


def _purchase_sessions(
    world: World, rng: np.random.Generator, persons: Persons, orders: Orders, cookies: Cookies
) -> Sessions:
    online = np.flatnonzero(orders.channel != CHANNELS.index("store"))
    person = orders.person[online]
    app = orders.channel[online] == CHANNELS.index("app")
    use_second = cookies.exists[person, SECOND_SLOT] & (rng.random(len(online)) < 0.3)
    slot = np.where(app, APP_SLOT, np.where(use_second, SECOND_SLOT, 0))
    lines = orders.lines
    first_line = starts_of(lines.n_lines)[online]
    n_views = np.minimum(lines.n_lines[online], MAX_VIEWS)
    view = np.arange(MAX_VIEWS)
    line_idx = np.minimum(first_line[:, None] + view, len(lines.product) - 1)
    products = np.where(view < n_views[:, None], lines.product[line_idx], -1)
    return Sessions(
        person=person,
        slot=slot,
        anchor=orders.seconds[online],
        order=online,
        user_account=orders.account[online],
        search=rng.random(len(online)) < world.segments.search_rate[persons.segment[person]],
        cart=np.ones(len(online), dtype=bool),
        n_views=n_views,
        products=products,
    )


def _browse_windows(
    world: World, persons: Persons, process: PurchaseProcess, accounts: Accounts, orders: Orders
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sessions per person and the [low, high) day range in which they browse."""
    n, horizon = persons.size, world.horizon
    low, high = np.zeros(n), np.full(n, horizon)
    acquired = np.full(n, np.nan)
    acquired[process.buyers] = process.acquired
    dropout = np.full(n, np.nan)
    dropout[process.buyers] = process.dropout
    buyer = persons.is_buyer
    low[buyer] = np.maximum(0.0, acquired[buyer] - 30.0)
    high[buyer] = np.where(np.isnan(dropout[buyer]), horizon, np.minimum(horizon, dropout[buyer] + 45.0))
    prospect = persons.kind == PROSPECT
    created_days = (accounts.created[accounts.first_of[prospect]] - world.start_epoch) / 86_400.0
    low[prospect] = np.maximum(0.0, created_days - 20.0)
    n_orders = np.bincount(orders.person, minlength=n)
    mean = world.segments.browse_per_order[persons.segment] * n_orders
    return mean, low, high


def _browse_sessions(
    world: World,
    rng: np.random.Generator,
    persons: Persons,
    process: PurchaseProcess,
    accounts: Accounts,
    orders: Orders,
    cookies: Cookies,
) -> Sessions:
    n = persons.size
    rates = world.config.rates
    mean, low, high = _browse_windows(world, persons, process, accounts, orders)
    count = rng.poisson(mean)
    count = np.where(persons.kind == PROSPECT, rng.integers(1, 5, n), count)
    count = np.where(persons.kind == ANONYMOUS, rng.integers(1, 6, n), count)
    person = np.repeat(np.arange(n), count)
    # Household members each log in on the shared tablet at least once, after their account exists.
    members = cookies.household_members
    person = np.concatenate([person, members])
    forced = np.concatenate([np.zeros(len(person) - len(members), bool), np.ones(len(members), bool)])
    s = len(person)

    first_acc = accounts.first_of[person]
    created_days = np.where(
        first_acc >= 0, (accounts.created[np.maximum(first_acc, 0)] - world.start_epoch) / 86_400.0, 0.0
    )
    lo = np.where(forced, np.maximum(low[person], np.ceil(created_days)), low[person])
    hi = np.maximum(high[person], lo + 1.0)
    day = weekday_days(rng, world, persons, person, lo, np.minimum(hi, world.horizon))
    start_days = np.minimum(day + hours_of_habit(rng, persons, person) / 24.0, world.horizon - 1e-4)
    start = world.start_epoch + np.floor(start_days * 86_400).astype(np.int64)

    # Cookie: weighted towards the main browser among the person's existing slots.
    weights = cookies.exists[person] * np.array([3.0, 1.0, 1.0, 1.0])
    slot = categorical_rows(rng, weights, np.arange(s)) if s else np.zeros(0, np.int64)
    slot = np.where(forced, SHARED_SLOT, slot)

    registered = persons.is_registered[person]
    second = accounts.second_of[person]
    second_ok = (second >= 0) & (accounts.created[np.maximum(second, 0)] <= start) & (rng.random(s) < 0.5)
    account = np.where(second_ok, second, first_acc)
    account_ok = registered & (first_acc >= 0) & (accounts.created[np.maximum(account, 0)] <= start)
    login = account_ok & ((rng.random(s) < rates.browse_login_share) | forced)
    login &= persons.kind[person] != GUEST_BUYER

    n_views = rng.integers(1, MAX_VIEWS + 1, s)
    products = _segment_products(world, rng, np.repeat(persons.segment[person], MAX_VIEWS)).reshape(
        s, MAX_VIEWS
    )
    products = np.where(np.arange(MAX_VIEWS) < n_views[:, None], products, -1)
    return Sessions(
        person=person,
        slot=slot,
        anchor=start,
        order=np.full(s, -1, dtype=np.int64),
        user_account=np.where(login, account, -1),
        search=rng.random(s) < world.segments.search_rate[persons.segment[person]],
        cart=rng.random(s) < rates.cart_abandon_share,
        n_views=n_views,
        products=products,
    )


def _identify_every_device(ses: Sessions, persons: Persons, accounts: Accounts) -> Sessions:
    """Every device of a known person shows who uses it at least once: a login or an order.

    A planted truth that no data could reveal would cap identity resolution's recall below
    what the issue asks to measure. So the first session on a never-identified device logs in
    (for an account holder whose account exists by then); a guest's browsing moves to a device
    the guest ordered on. Anonymous-only visitors stay anonymous; a store-only guest's
    devices stay unidentified (no order confirmation exists), which the truth keeps.
    """
    key = ses.person * SLOTS + ses.slot
    identified_keys = np.unique(key[ses.logged_in | ses.is_purchase])
    known = (persons.kind[ses.person] != ANONYMOUS) & (ses.slot != SHARED_SLOT)
    pending = known & ~np.isin(key, identified_keys)

    account = accounts.first_of[ses.person]
    can_log_in = pending & (account >= 0) & (accounts.created[np.maximum(account, 0)] <= ses.anchor)
    candidates = np.flatnonzero(can_log_in)
    order = candidates[np.lexsort((ses.anchor[candidates], key[candidates]))]
    first = order[np.r_[True, key[order][1:] != key[order][:-1]]] if order.size else order
    user_account = ses.user_account.copy()
    user_account[first] = account[first]

    still_pending = pending & ~np.isin(key, key[first])
    slot = ses.slot.copy()
    if still_pending.any():
        # A device this person ordered on: the lowest identified slot of the person, if any.
        identified_person = identified_keys // SLOTS
        lowest = np.full(persons.size, SLOTS, dtype=np.int64)
        np.minimum.at(lowest, identified_person, identified_keys % SLOTS)
        lowest[lowest == SLOTS] = -1
        target = lowest[ses.person[still_pending]]
        slot[still_pending] = np.where(target >= 0, target, slot[still_pending])
    return replace(ses, slot=slot, user_account=user_account)


def _concat(a: Sessions, b: Sessions) -> Sessions:
    return Sessions(
        **{f: np.concatenate([getattr(a, f), getattr(b, f)]) for f in Sessions.__dataclass_fields__}
    )


def build_events(
    world: World,
    rng: np.random.Generator,
    chunk: int,
    persons: Persons,
    process: PurchaseProcess,
    accounts: Accounts,
    orders: Orders,
    cookies: Cookies,
    pages: pa.Array,
) -> WebEvents:
    ses = _identify_every_device(
        _concat(
            _purchase_sessions(world, rng, persons, orders, cookies),
            _browse_sessions(world, rng, persons, process, accounts, orders, cookies),
        ),
        persons,
        accounts,
    )
    login = ses.logged_in.astype(np.int64)
    search = ses.search.astype(np.int64)
    cart = ses.cart.astype(np.int64)
    purchase = ses.is_purchase.astype(np.int64)
    n_events = 1 + login + search + ses.n_views + 2 * cart + purchase
    sid = np.repeat(np.arange(len(ses.person)), n_events)
    k = rank_within(n_events)
    e = len(sid)

    # Position -> event type, following the fixed session layout.
    after_login = k - 1 - login[sid]
    after_search = after_login - search[sid]
    after_views = after_search - ses.n_views[sid]
    name = np.full(e, PAGE_VIEW, dtype=np.int64)
    name[(k == 1) & (login[sid] == 1)] = LOGIN
    name[(after_login == 0) & (search[sid] == 1)] = SEARCH
    is_view = (after_search >= 0) & (after_views < 0)
    name[is_view] = PRODUCT_VIEW
    name[(after_views == 0) & (cart[sid] == 1)] = ADD_TO_CART
    name[(after_views == 1) & (cart[sid] == 1)] = CHECKOUT
    name[(after_views == 2) & (purchase[sid] == 1)] = PURCHASE
    name[k == 0] = PAGE_VIEW

    product = np.full(e, -1, dtype=np.int64)
    product[is_view] = ses.products[sid[is_view], after_search[is_view]]
    cart_ev = name == ADD_TO_CART
    cart_view = np.where(purchase[sid[cart_ev]] == 1, 0, ses.n_views[sid[cart_ev]] - 1)
    product[cart_ev] = ses.products[sid[cart_ev], cart_view]

    seconds = _event_times(world, rng, ses, sid, n_events)
    person = ses.person[sid]
    segment = persons.segment[person]
    searched = np.flatnonzero(name == SEARCH)
    term_cat = categorical_rows(rng, world.segments.category, segment[searched])
    term = np.zeros(e, dtype=np.int64)
    term[searched] = TERM_START[term_cat] + np.floor(rng.random(searched.size) * TERM_COUNT[term_cat]).astype(
        np.int64
    )
    first_cat = world.catalog.category[np.maximum(ses.products[sid, 0], 0)]
    page = np.select(
        [name == LOGIN, name == SEARCH, (name == PRODUCT_VIEW) | (name == ADD_TO_CART), name == CHECKOUT,
         name == PURCHASE, rng.random(e) < 0.4],
        [LOGIN_PAGE, SEARCH_PAGE0 + term, PRODUCT_PAGE0 + product, CHECKOUT_PAGE, CONFIRMATION_PAGE,
         CATEGORY_PAGE0 + first_cat],
        HOME,
    )  # fmt: skip

    referrer, utm_source, utm_medium, utm_campaign = _acquisition(world, rng, ses, world.campaigns)
    landing = k == 0
    cookie_flat = ses.person * SLOTS + ses.slot
    flat = cookie_flat[sid]
    user = np.where(k >= 1, ses.user_account[sid], -1)
    dev, os_, browser = (a[ses.person, ses.slot][sid] for a in (cookies.device, cookies.os, cookies.browser))
    country = persons.country[person]
    table = pa.table(
        {
            "event_id": chunk_ids("E", chunk, np.arange(e) + 1, digits=12, stride=EVENT_ID_STRIDE),
            "anonymous_id": cookies.anonymous_id.take(pa.array(flat)),
            "user_id": accounts.customer_id.take(pa.array(np.maximum(user, 0), mask=user < 0)),
            "event_name": dict_column(EVENT_NAMES, name),
            "occurred_at": ts_array(seconds),
            "page_url": _page_urls(pages, page, name == PURCHASE, ses.order[sid], orders),
            "product_id": dict_column(world.catalog.ids, np.maximum(product, 0), product < 0),
            "search_term": dict_column(TERM_VOCAB, term, name != SEARCH),
            "referrer": dict_column(REFERRERS, np.maximum(referrer[sid], 0), ~landing | (referrer[sid] < 0)),
            "utm_source": dict_column(
                UTM_SOURCES, np.maximum(utm_source[sid], 0), ~landing | (utm_source[sid] < 0)
            ),
            "utm_medium": dict_column(
                UTM_MEDIUMS, np.maximum(utm_medium[sid], 0), ~landing | (utm_medium[sid] < 0)
            ),
            "utm_campaign": dict_column(
                [*world.campaigns.ids, *SEARCH_CAMPAIGNS],
                np.maximum(utm_campaign[sid], 0),
                ~landing | (utm_campaign[sid] < 0),
            ),
            "device_type": dict_column(DEVICE_NAMES, dev),
            "os": dict_column(OS_NAMES, os_),
            "browser": dict_column(BROWSER_NAMES, browser),
            "country": dict_column([c.code for c in COUNTRIES], country),
            "timezone": dict_column([c.timezone for c in COUNTRIES], country),
        }
    )
    pair = np.unique(cookie_flat.astype(np.int64) * persons.size + ses.person)
    return WebEvents(
        table=table,
        order=ses.order[sid],
        person=person,
        product=product,
        cookie_pairs=(pair // persons.size, pair % persons.size),
    )


def _page_urls(
    pages: pa.Array, page: np.ndarray, is_purchase: np.ndarray, order: np.ndarray, orders: Orders
) -> pa.Array:
    """Page URLs; the order confirmation page names its order, as real shops' URLs do.

    That query parameter is the only trace tying a guest's cookie to the guest's order, so
    identity resolution can put a guest's anonymous browsing on the guest's key.
    """
    urls = dict_column(pages, page).cast(pa.string())
    if not is_purchase.any():
        return urls
    confirmation = pc.binary_join_element_wise(
        pa.scalar(pages[CONFIRMATION_PAGE].as_py() + "?order_id="),
        orders.order_id.take(pa.array(np.where(is_purchase, order, 0))),
        "",
    )
    return pc.if_else(pa.array(is_purchase), confirmation, urls)


def _event_times(
    world: World, rng: np.random.Generator, ses: Sessions, sid: np.ndarray, n_events: np.ndarray
) -> np.ndarray:
    """Purchase sessions end at the order instant; browse sessions start at their anchor."""
    gap = np.floor(rng.exponential(50.0, len(sid))).astype(np.int64) + 3
    last = starts_of(n_events) + n_events - 1
    gap[last] = 0
    cs = np.cumsum(gap)
    first = starts_of(n_events)
    after = cs[last][sid] - cs + gap  # seconds from this event to the session's last event
    before = (cs - gap) - (cs[first] - gap[first])[sid]  # seconds from the session's first event
    seconds = np.where(ses.is_purchase[sid], ses.anchor[sid] - after, ses.anchor[sid] + before)
    return np.clip(seconds, world.start_epoch, world.end_epoch - 1)


def _acquisition(
    world: World, rng: np.random.Generator, ses: Sessions, campaigns: Campaigns
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per session: referrer index, and utm source/medium/campaign indices (-1 = none)."""
    s = len(ses.person)
    ref = categorical(rng, REFERRER_WEIGHTS, s) - 1
    anchor_days = (ses.anchor - world.start_epoch) / 86_400.0
    latest = campaigns.latest_before(anchor_days)
    tagged = rng.random(s) < world.config.rates.tagged_share
    source = np.full(s, -1)
    medium = np.full(s, -1)
    campaign = np.full(s, -1)
    email = (ref == 3) & (latest >= 0)
    social = ((ref == 1) | (ref == 2)) & tagged & (latest >= 0)
    paid = (ref == 0) & tagged
    source[email], medium[email], campaign[email] = 0, 0, latest[email]
    source[social], medium[social], campaign[social] = 1 + ref[social], 2, latest[social]
    source[paid], medium[paid] = 1, 1
    campaign[paid] = campaigns.size + rng.integers(0, len(SEARCH_CAMPAIGNS), int(paid.sum()))
    return ref, source, medium, campaign
