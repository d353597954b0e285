/**
 * W3C trace context across the bus: the producer's `traceparent` extension becomes
 * the parent of the consumer's span (OpenTelemetry API), and events the consumer
 * emits carry the consumer's span on. Without an installed SDK the spans are
 * non-recording but the ids still flow, so logs and events stay linked.
 */
import { SpanKind, SpanStatusCode, context, trace, type Span, type SpanContext } from '@opentelemetry/api';
import type { CloudEvent } from '../events/cloud-event.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const tracer = trace.getTracer('nedlia-consumers');

export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  const match = value ? TRACEPARENT.exec(value) : null;
  if (!match) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true };
}

export function formatTraceparent(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${span.traceFlags.toString(16).padStart(2, '0')}`;
}

/** Runs `work` in a consumer span whose parent is the event's trace context. */
export async function inConsumerSpan<T>(consumer: string, event: CloudEvent, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = parseTraceparent(event.traceparent);
  const parentContext = parent ? trace.setSpanContext(context.active(), parent) : context.active();
  return tracer.startActiveSpan(
    `${event.type} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.operation.type': 'process', 'messaging.consumer.group.name': consumer, 'messaging.message.id': event.id },
    },
    parentContext,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
