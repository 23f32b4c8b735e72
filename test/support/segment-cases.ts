/**
 * The segment fixtures every conversion-level suite runs over: Pinot 1.5.1 archives of every shape and the real
 * segments found in public repositories (see the SOURCES.md of each fixtures folder), with the legacy-padding cases.
 */
import { join } from 'node:path';

export interface SegmentCase {
  name: string;
  /** Relative to the fixtures folder. */
  path: string;
  legacyPadding?: 'strip';
}

export const GENERATED_SEGMENTS: readonly SegmentCase[] = [
  'events__0__12__20261126T0000Z.tar.gz', 'events__0__13__20261126T0100Z.tar.gz', 'rawfwd_version2.tar.gz', 'rawfwd_version4.tar.gz',
  'rawfwd_version5.tar.gz', 'dictvar_mvraw.tar.gz', 'sorted_bigdecimal.tar.gz', 'sorted_bigdecimal.tar.lz4',
].map((f): SegmentCase => ({ name: f, path: join('pinot-generated/1.5.1', f) }));

export const REAL_SEGMENTS: readonly SegmentCase[] = [
  { name: 'baseballStats 2022', path: 'pinot-segments/baseballStats-v3/baseballStats_OFFLINE_0.2022-02.tar.gz' },
  { name: 'baseballStats 2024', path: 'pinot-segments/baseballStats-v3/baseballStats_OFFLINE_0.2024-10.tar.gz' },
  { name: 'recipes 0', path: 'pinot-segments/recipes-matches-v3/deepstore-layout/matches/matches_OFFLINE_1642417200000_1642433520000_0' },
  { name: 'recipes 1', path: 'pinot-segments/recipes-matches-v3/deepstore-layout/matches/matches_OFFLINE_1642417380000_1642443240000_1' },
  { name: 'v1 2022 MV raw', path: 'pinot-segments/v1-2022-testTable-mv-raw/testTable_1756015683_1756015683' },
  { name: 'v3 2017 views', path: 'pinot-segments/v3-2017-views/segment_0' },
  { name: 'legacy raw inverted', path: 'pinot-segments/legacyRawInverted-2026/legacyRawInverted_OFFLINE_0.v1.tar.gz' },
  { name: 'v1 2016 NUL padding', path: 'pinot-segments/v1-2016-padding/paddingNull.tar.gz' },
  { name: 'v1 2016 % padding', path: 'pinot-segments/v1-2016-padding/paddingPercent.tar.gz', legacyPadding: 'strip' },
  { name: 'v1 2016 star-tree', path: 'pinot-segments/v1-2016-starTreeSegment/starTreeSegment.tar.gz', legacyPadding: 'strip' },
];
