/**
 * What a video's placement file holds (pure): only the placements that may be shown
 * now (active, with a live product of an active advertiser that a serving campaign
 * promotes), sorted by start time; and the same as a WebVTT metadata track.
 */
import { PLACEMENT_FILE_FORMAT_VERSION, type FilePlacement, type PlacementFileDocument } from './placement-file-model.js';

export interface CampaignState {
  id: string;
  status: 'draft' | 'active' | 'paused' | 'completed';
  startDate: string;
  endDate: string;
  budget: number;
  spent: number;
  deleted: boolean;
}

export interface PlacementState {
  id: string;
  status: 'draft' | 'active' | 'archived';
  startTime: number;
  endTime: number;
  position: FilePlacement['position'];
  product: {
    id: string;
    name: string;
    category: string | null;
    assets: unknown[];
    deleted: boolean;
    advertiserDeleted: boolean;
    advertiserStatus: 'active' | 'suspended';
    campaigns: readonly CampaignState[];
  };
}

export interface FileSnapshot {
  videoId: string;
  duration: number;
  /** Live (not deleted) placements of the live video. */
  placements: readonly PlacementState[];
  /** `YYYY-MM-DD` (UTC): a campaign serves from its start date through its end date. */
  today: string;
}

export const PLACEMENT_FILE_SCHEMA_URL = '/v1/schemas/placement-file.json';
export const EVENTS_URL = '/v1/events';

export function campaignServes(c: CampaignState, today: string): boolean {
  return !c.deleted && c.status === 'active' && c.startDate <= today && today <= c.endDate && c.spent < c.budget;
}

/** The campaign a placement is shown for (the first serving one by id), or undefined when it may not be shown now. */
export function servingCampaign(p: PlacementState, today: string): string | undefined {
  const product = p.product;
  if (p.status !== 'active' || product.deleted || product.advertiserDeleted || product.advertiserStatus !== 'active') return undefined;
  return product.campaigns.filter((c) => campaignServes(c, today)).map((c) => c.id).sort()[0];
}

/** The placements of the file, in start order (ties by id), without version and time: equal content, equal list. */
export function filePlacements(snapshot: FileSnapshot): FilePlacement[] {
  const shown: FilePlacement[] = [];
  for (const p of snapshot.placements) {
    const campaignId = servingCampaign(p, snapshot.today);
    if (campaignId === undefined) continue;
    shown.push({
      id: p.id,
      start_time: p.startTime,
      end_time: p.endTime,
      position: p.position,
      product: { id: p.product.id, name: p.product.name, category: p.product.category, assets: p.product.assets },
      campaign_id: campaignId,
    });
  }
  return shown.sort((a, b) => a.start_time - b.start_time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function placementFileDocument(snapshot: FileSnapshot, placements: FilePlacement[], version: number, generatedAt: Date): PlacementFileDocument {
  return {
    $schema: PLACEMENT_FILE_SCHEMA_URL,
    format_version: PLACEMENT_FILE_FORMAT_VERSION,
    video_id: snapshot.videoId,
    duration: snapshot.duration,
    version,
    generated_at: generatedAt.toISOString(),
    tracking: { events_url: EVENTS_URL, key_header: 'x-nedlia-key', event_types: ['impression', 'click', 'view_start', 'view_end'] },
    placements,
  };
}

/** `HH:MM:SS.mmm`, as WebVTT cue timings want. */
export function vttTimestamp(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/**
 * The file as a WebVTT metadata track (`<track kind="metadata">`): one cue per
 * placement, its identifier the placement id, its payload one line of JSON (the
 * placement with the video id). `-->` cannot appear in a cue payload, so `>` is
 * written as its JSON escape; JSON has no line breaks of its own.
 */
export function placementFileVtt(document: PlacementFileDocument): string {
  const header = `WEBVTT - Nedlia placements for video ${document.video_id}, version ${document.version}\n\n`;
  const cues = document.placements.map((p) => {
    const payload = JSON.stringify({ video_id: document.video_id, ...p }).replace(/>/g, '\\u003e');
    return `${p.id}\n${vttTimestamp(p.start_time)} --> ${vttTimestamp(p.end_time)}\n${payload}\n`;
  });
  return header + cues.join('\n');
}

const nextDay = (date: string): string => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString();

/**
 * When the file goes stale by the calendar alone: the first midnight (UTC) at which a
 * shown placement's campaign ends, or an active campaign of a hidden placement starts.
 * Undefined when no date can change it.
 */
export function fileExpiry(snapshot: FileSnapshot): string | undefined {
  let first: string | undefined;
  const consider = (at: string) => {
    if (first === undefined || at < first) first = at;
  };
  for (const p of snapshot.placements) {
    const shownFor = servingCampaign(p, snapshot.today);
    for (const c of p.product.campaigns) {
      if (c.deleted || c.status !== 'active' || c.spent >= c.budget) continue;
      if (c.id === shownFor) consider(nextDay(c.endDate));
      else if (shownFor === undefined && c.startDate > snapshot.today) consider(`${c.startDate}T00:00:00.000Z`);
    }
  }
  return first;
}
