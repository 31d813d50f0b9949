"""Key-account plans (客户计划, seed 001): for a key customer, their situation, challenges
and strategy, what drives their decisions, our objectives and the relationship level; the
decision chain drawn from their contacts; the competitor sheet with the seed's six
questions; the action plan, whose steps are tasks on their owners' workbench; and the
customer's buying orientation (seed 002), suggested from their purchases, with the selling
approach it calls for."""
