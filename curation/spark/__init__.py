"""Spark glue: the session, the one Hadoop FS helper (``fs``), table I/O (``tables``), the output
lock, the DataFrame transforms, progress and fault injection. Only moves data to the rules."""
