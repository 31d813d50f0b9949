"""Tickets (工单): complaints, enquiries, repairs and requests, their conversation, the time
spent on them, the queue and the agent's view of the customer, and e-mail intake."""
