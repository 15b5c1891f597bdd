"""The email gateway's I/O: SMTP in and out, IMAP, Kafka, SQLite and the health endpoint."""
