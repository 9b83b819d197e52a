"""Operations: multi-action tasks, backups, cleanup, reports, statistics, metrics, resources."""
