"""The aggregated reports (site statistics, heatmaps, frustration), read from
the rollups that ingest keeps (rollups/), and their rebuild from stored chunks."""
