/**
 * Lambda event shapes as AWS documents them, field for field, with the values a test
 * needs put in:
 * - HTTP API payload 2.0: "Working with AWS Lambda proxy integrations for HTTP APIs"
 *   (API Gateway developer guide);
 * - REST API proxy 1.0: "Input format of a Lambda function for proxy integration";
 * - SQS: "Using Lambda with Amazon SQS" (example standard queue message event);
 * - EventBridge: "Amazon EventBridge events" (the envelope a rule sends to its SQS target);
 * - the context object: "Using the Lambda context object to retrieve Node.js function information".
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { CloudEvent } from '../../src/platform/events/cloud-event.js';

export interface HttpCall {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body base64-encoded, as API Gateway does with binary media types. */
  base64?: boolean;
  requestId?: string;
}

const encodeBody = (call: HttpCall): { body: string | null; isBase64Encoded: boolean } => {
  if (call.body === undefined) return { body: null, isBase64Encoded: false };
  if (call.base64 || Buffer.isBuffer(call.body)) return { body: Buffer.from(call.body).toString('base64'), isBase64Encoded: true };
  return { body: call.body, isBase64Encoded: false };
};

export function httpApiV2Event(call: HttpCall): APIGatewayProxyEventV2 {
  const requestId = call.requestId ?? `${randomUUID()}`;
  const rawQueryString = new URLSearchParams(call.query ?? {}).toString();
  const { body, isBase64Encoded } = encodeBody(call);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: call.path,
    rawQueryString,
    cookies: ['cookie1', 'cookie2'],
    headers: { accept: 'application/json', 'user-agent': 'agent', host: 'id.execute-api.us-east-1.amazonaws.com', ...lower(call.headers ?? {}) },
    ...(call.query ? { queryStringParameters: call.query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api-id',
      domainName: 'id.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'id',
      http: { method: call.method, path: call.path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'agent' },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: '12/Mar/2020:19:03:58 +0000',
      timeEpoch: 1583348638390,
    },
    ...(body !== null ? { body } : {}),
    isBase64Encoded,
  };
}

export function restApiV1Event(call: HttpCall): APIGatewayProxyEvent {
  const requestId = call.requestId ?? randomUUID();
  const headers = { Accept: 'application/json', 'User-Agent': 'user-agent', Host: 'id.execute-api.us-east-1.amazonaws.com', ...(call.headers ?? {}) };
  const { body, isBase64Encoded } = encodeBody(call);
  return {
    resource: '/{proxy+}',
    path: call.path,
    httpMethod: call.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: call.query ?? null,
    multiValueQueryStringParameters: call.query ? Object.fromEntries(Object.entries(call.query).map(([k, v]) => [k, [v]])) : null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'id',
      authorizer: null,
      domainName: 'id.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'id',
      extendedRequestId: 'request-id',
      httpMethod: call.method,
      identity: {
        accessKey: null, accountId: null, caller: null, cognitoAuthenticationProvider: null, cognitoAuthenticationType: null,
        cognitoIdentityId: null, cognitoIdentityPoolId: null, principalOrgId: null, sourceIp: '192.0.2.1', user: null,
        userAgent: 'user-agent', userArn: null, apiKey: null, apiKeyId: null, clientCert: null,
      },
      path: `/Prod${call.path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: '04/Mar/2020:19:15:17 +0000',
      requestTimeEpoch: 1583349317135,
      resourceId: 'resource-id',
      resourcePath: '/{proxy+}',
      stage: 'Prod',
    },
    pathParameters: { proxy: call.path.slice(1) },
    stageVariables: null,
    body,
    isBase64Encoded,
  };
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The envelope EventBridge sends to a rule's target for an event the relay put with `PutEvents`. */
export function eventBridgeEnvelope(event: CloudEvent): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': event.type,
    source: 'nedlia',
    account: '123456789012',
    time: event.time,
    region: 'us-east-1',
    resources: [],
    detail: event,
  };
}

export function sqsRecord(body: string, options: { receiveCount?: number; queue?: string } = {}): SQSRecord {
  return {
    messageId: randomUUID(),
    receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...',
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: '1545082649183',
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: '1545082649185',
    },
    messageAttributes: {},
    md5OfBody: '098f6bcd4621d373cade4e832627b4f6',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${options.queue ?? 'nedlia-placement-details-projector'}`,
    awsRegion: 'us-east-1',
  };
}

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });

export function lambdaContext(functionName = 'nedlia-api', remainingMs = 30_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2020/03/12/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
