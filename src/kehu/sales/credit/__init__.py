"""Credit control (信用管理): each customer's credit limit and payment terms, receivables
(应收账款) with their payments, open and overdue amounts by age, payment punctuality, credit
incidents (信用事件) with their evidence, flags on orders and opportunities that would take
a customer over the limit, and a task for the owner when invoices fall overdue. Everything
here is in the sensitive tier: only those who see it (kehu.core.policy.may_see_credit) read
or write it."""
