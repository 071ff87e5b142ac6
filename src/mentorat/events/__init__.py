"""What happened, recorded in the transaction of the change, for the clients to be told."""
