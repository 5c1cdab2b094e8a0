// Where things live below the data directory: one list, so no module has to import another just to find a path.
import { join } from 'node:path';

/** The files and folders of a data directory (DATA_DIR in the docs). */
export function dataPaths(dataDir: string) {
  return {
    /** The config file read at start when --config does not name another. */
    configFile: join(dataDir, 'gureum.json'),
    /** The SQLite database when database.url is `sqlite`. */
    sqliteFile: join(dataDir, 'gureum.db'),
    /** Image data (Glance's local store). */
    images: join(dataDir, 'images'),
    /** Per-instance folders of the QEMU driver. */
    instances: join(dataDir, 'instances'),
    /** Verified base images the QEMU driver boots from. */
    imageCache: join(dataDir, 'cache', 'images'),
    /** Volumes of the file backend (block storage). */
    volumes: join(dataDir, 'volumes'),
    /** Volume backups (the backup store). */
    backups: join(dataDir, 'backups'),
    /** Builds of the default `tiny` image. */
    tinyCache: join(dataDir, 'cache', 'tiny'),
    /** Secret shared with the metadata proxies, unless metadata.secretFile names another. */
    metadataSecret: join(dataDir, 'metadata-secret'),
    /** The scrape credential of /metrics, unless observability.metricsToken sets one. */
    metricsToken: join(dataDir, 'metrics-token'),
    /** The built-in time series of instance figures. */
    monitoringSeries: join(dataDir, 'monitoring', 'series.bin'),
    cloudsYaml: join(dataDir, 'clouds.yaml'),
    adminOpenrc: join(dataDir, 'admin-openrc.sh'),
  };
}
