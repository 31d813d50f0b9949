"""The knowledge base of solutions (知识库): articles with the problem, its cause and the
solution, in Chinese or English, tagged and linked to the tickets they solved, found by a
full-text search that segments Chinese into words (jieba) on SQLite FTS5 and PostgreSQL."""
