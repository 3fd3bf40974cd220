"""Known-future covariates (Open, Promo, StateHoliday, SchoolHoliday): learned from history, assumed for the horizon."""
