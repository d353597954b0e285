// Every test file runs with the event types installed, as every process of the service does (src/entry/event-types.ts).
import '../../src/entry/event-types.js';
