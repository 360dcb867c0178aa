"""What the CLV fit and predictions are configured with: model vocabularies, numerical
tolerances and the two settings objects the dbt Python models build from their config.

Every setting comes from a dbt var (dbt_project.yml, value block) through the models' YAML
config, so it arrives rendered as text; `from_config` parses it and refuses unknown models or
fit methods by name, before any fitting starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from orchestration.statistics.clv.diagnostics import DiagnosticSettings

# Parameter names as recorded in clv_model_fit, per model. Gamma-Gamma's rate is "v" in
# pymc-marketing and "gamma" in Fader & Hardie's notes and in the table.
PURCHASE_MODEL_PARAMETERS: dict[str, tuple[str, ...]] = {
    "bg_nbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
}
SPEND_MODEL = "gamma_gamma"
SPEND_MODEL_PARAMETERS: tuple[str, ...] = ("p", "q", "gamma")
ALL_PARAMETERS: tuple[str, ...] = ("r", "alpha", "a", "b", "s", "beta", "p", "q", "gamma")
PYMC_NAMES: dict[str, str] = {"gamma": "v"}
FIT_METHODS: tuple[str, ...] = ("map", "mcmc")

# A fit counts as converged when the Newton step left to the optimum is under 1% of a
# standard error (MAP), or when every R-hat is under 1.01 (MCMC).
MAP_TOLERANCE_STANDARD_ERRORS = 0.01
MCMC_MAX_RHAT = 1.01
# scipy's L-BFGS-B stops on a relative change of the log-likelihood (default 2e-9); with a
# million customers that leaves the estimate a few hundredths of a standard error short of the
# optimum, so ask for (near) machine precision: it costs a few more gradient evaluations.
MAP_OPTIMIZER_OPTIONS: dict[str, float] = {"ftol": 1e-13, "gtol": 1e-9}
# Step, in log-parameter units, of the finite differences that give the Hessian.
HESSIAN_STEP = 1e-4


def pymc_name(name: str) -> str:
    """The pymc-marketing variable behind a parameter named as in clv_model_fit."""
    return PYMC_NAMES.get(name, name)


def _given(value: object) -> bool:
    return value is not None and str(value).strip().lower() not in ("", "none", "null")


def _text(values: Mapping[str, object], key: str, default: str) -> str:
    value = values.get(key)
    return str(value).strip() if _given(value) else default


def _integer(values: Mapping[str, object], key: str, default: int) -> int:
    value = values.get(key)
    return int(float(str(value))) if _given(value) else default


def _real(values: Mapping[str, object], key: str, default: float) -> float:
    value = values.get(key)
    return float(str(value)) if _given(value) else default


@dataclass(frozen=True)
class McmcSettings:
    """NUTS sampling when var clv_fit_method is mcmc (vars clv_mcmc_chains, _draws, _tune)."""

    chains: int = 2
    draws: int = 500
    tune: int = 500


@dataclass(frozen=True)
class FitSettings:
    """How clv_model_fit fits: the purchase model, MAP or MCMC, draws kept, seed, diagnostics."""

    model_name: str = "bg_nbd"
    fit_method: str = "map"
    draws_count: int = 200
    seed: int = 0
    mcmc: McmcSettings = field(default_factory=McmcSettings)
    diagnostics: DiagnosticSettings = field(default_factory=DiagnosticSettings)

    def __post_init__(self) -> None:
        if self.model_name not in PURCHASE_MODEL_PARAMETERS:
            raise ValueError(
                f"var clv_model must be one of {sorted(PURCHASE_MODEL_PARAMETERS)}, got {self.model_name!r}"
            )
        if self.fit_method not in FIT_METHODS:
            raise ValueError(f"var clv_fit_method must be one of {FIT_METHODS}, got {self.fit_method!r}")
        if self.draws_count < 1:
            raise ValueError(f"var clv_interval_draws must be at least 1, got {self.draws_count}")

    @property
    def purchase_parameters(self) -> tuple[str, ...]:
        return PURCHASE_MODEL_PARAMETERS[self.model_name]

    @classmethod
    def from_config(cls, values: Mapping[str, object]) -> FitSettings:
        """Settings from the model's config, keyed by var name (clv_model, clv_fit_method, ...)."""
        defaults, mcmc = cls(), McmcSettings()
        return cls(
            model_name=_text(values, "clv_model", defaults.model_name),
            fit_method=_text(values, "clv_fit_method", defaults.fit_method),
            draws_count=_integer(values, "clv_interval_draws", defaults.draws_count),
            seed=_integer(values, "clv_random_seed", defaults.seed),
            mcmc=McmcSettings(
                chains=_integer(values, "clv_mcmc_chains", mcmc.chains),
                draws=_integer(values, "clv_mcmc_draws", mcmc.draws),
                tune=_integer(values, "clv_mcmc_tune", mcmc.tune),
            ),
            diagnostics=DiagnosticSettings.from_mapping(
                {
                    "max_relative_se": values.get("clv_max_relative_se"),
                    "bound_tolerance": values.get("clv_bound_tolerance"),
                    "parameter_max": values.get("clv_parameter_max"),
                }
            ),
        )


@dataclass(frozen=True)
class PredictionSettings:
    """What int_value__clv_predictions predicts: horizon, discounting, interval level, seed."""

    model_name: str = "bg_nbd"
    horizon_days: float = 365.0
    annual_discount_rate: float = 0.1
    discount_steps: int = 12
    interval_level: float = 0.9
    seed: int = 0

    def __post_init__(self) -> None:
        if self.model_name not in PURCHASE_MODEL_PARAMETERS:
            raise ValueError(
                f"var clv_model must be one of {sorted(PURCHASE_MODEL_PARAMETERS)}, got {self.model_name!r}"
            )
        if not self.horizon_days > 0 or self.discount_steps < 1 or not 0 < self.interval_level < 1:
            raise ValueError(
                "clv_horizon_days must be positive, clv_discount_steps at least 1 and "
                f"clv_interval_level strictly between 0 and 1, got {self}"
            )

    @property
    def purchase_parameters(self) -> tuple[str, ...]:
        return PURCHASE_MODEL_PARAMETERS[self.model_name]

    @classmethod
    def from_config(cls, values: Mapping[str, object]) -> PredictionSettings:
        """Settings from the model's config, keyed by var name (clv_model, clv_horizon_days, ...)."""
        defaults = cls()
        return cls(
            model_name=_text(values, "clv_model", defaults.model_name),
            horizon_days=_real(values, "clv_horizon_days", defaults.horizon_days),
            annual_discount_rate=_real(values, "clv_annual_discount_rate", defaults.annual_discount_rate),
            discount_steps=_integer(values, "clv_discount_steps", defaults.discount_steps),
            interval_level=_real(values, "clv_interval_level", defaults.interval_level),
            seed=_integer(values, "clv_random_seed", defaults.seed),
        )
