"""Capital markets: credit and equity, priced by risk and rationed by sentiment."""

from __future__ import annotations

from agents.base import Firm
from sim.config import Financier as FinParams
from sim.economics import debt_spread, equity_valuation, update_sentiment


class Financier(Firm):
    """Banks, private credit and equity investors as one agent.

    Its ledger balance is dry powder: capital allocated to AI infrastructure, topped up each month
    in proportion to sentiment. It prices debt as base rate + spread (leverage, the offtaker's credit,
    guarantees), values equity from revenue, growth and sentiment, and rations credit when sentiment
    is low. Sentiment rises with revenue growth and prices and falls with default losses.
    """

    kind = "financier"

    def __init__(self, model, uid: str, p: FinParams):
        super().__init__(model, uid, "Capital markets")
        self.p = p
        self.sentiment = p.sentiment0
        self.losses_busd = 0.0
        self.losses_month_busd = 0.0
        self.lent_month_busd = 0.0

    def lending_budget(self) -> float:
        """What it will commit this month: a sentiment-scaled share of its dry powder."""
        return max(self.cash_busd, 0.0) * (0.1 + 0.3 * self.sentiment)

    def rate_for(self, leverage: float, offtaker_pd: float | None, guaranteed_share: float) -> float:
        p = self.p
        s = debt_spread(leverage, offtaker_pd, guaranteed_share, p.base_spread, p.leverage_spread,
                        p.offtaker_spread, p.unrated_spread, p.guarantee_relief)
        return p.base_rate + s

    def will_lend(self, investment_grade: bool) -> bool:
        """Credit rationing: below the sentiment floor only investment-grade borrowers get credit."""
        return investment_grade or self.sentiment >= self.p.min_sentiment_to_lend

    def valuation(self, annual_revenue: float, growth: float) -> float:
        return equity_valuation(annual_revenue, growth, self.sentiment, self.p.revenue_multiple)

    def update(self, revenue_growth: float, price_ratio: float) -> None:
        self.sentiment = update_sentiment(self.sentiment, revenue_growth, price_ratio, self.losses_month_busd,
                                          self.p.sentiment_speed, self.p.default_sentiment_hit)
