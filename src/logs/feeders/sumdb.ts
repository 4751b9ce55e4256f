// Go's checksum database (sum.golang.org) as a feeder source (protocols.md §8): the signed tree
// note at `<url>/latest`, hash tiles at `<url>/tile/8/<L>/<N>[.p/<W>]` (the tile height is in the
// path, unlike tlog-tiles). There is no proof endpoint: proofs are built from the tiles, with the
// same verified-only tile cache as tlog-tiles logs (tiles.ts).
//
// The origin line is `go.sum database tree`; the key name is `sum.golang.org`.
import { sumdbTilePath } from '../../merkle/tiles.js';
import type { HttpSettings } from './http.js';
import { TiledLogSource } from './tiles.js';

export const SUMDB_TILE_HEIGHT = 8;
export const SUMDB_DEFAULT_URL = 'https://sum.golang.org';

export interface SumdbSourceOptions {
  readonly url: string;
  readonly http: HttpSettings;
  readonly cacheEntries?: number;
  readonly onTileFetch?: (path: string) => void;
}

export function createSumdbSource(opts: SumdbSourceOptions): TiledLogSource {
  return new TiledLogSource({
    type: 'sumdb',
    url: opts.url,
    checkpointPath: 'latest',
    tilePath: (level, index, width) => sumdbTilePath({ height: SUMDB_TILE_HEIGHT, level, index, width }),
    height: SUMDB_TILE_HEIGHT,
    http: opts.http,
    ...(opts.cacheEntries !== undefined ? { cacheEntries: opts.cacheEntries } : {}),
    ...(opts.onTileFetch ? { onTileFetch: opts.onTileFetch } : {}),
  });
}
