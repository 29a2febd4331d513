"""identity: the master person index — persons, households, 続柄 (zokugara) relationships, record links."""
