/**
 * The CDK stack (deploy/), synthesized offline with the service's consumers, and its
 * properties asserted on the CloudFormation template (aws-cdk-lib/assertions).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { App, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allConsumers } from '../../src/entry/consumers.js';
import { CONSUMER_VISIBILITY_FACTOR, NedliaStack, TIMEOUTS } from '../../deploy/nedlia-stack.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

let dir: string;
let template: Template;
let resources: Resources;
const ORIGINS = ['https://app.example.com', 'https://portal.example.com'];

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
type Statement = { Action: string | string[]; Effect: string; Resource: unknown };
/** The statements of the policies attached to a function's role. */
function statementsOf(fn: { Properties: Record<string, unknown> }): Statement[] {
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (st: Statement): string[] => (Array.isArray(st.Action) ? st.Action : [st.Action]);
const functionNamed = (prefix: string) => ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(prefix))![1];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-cdk-'));
  await writeFile(path.join(dir, 'index.mjs'), 'export const handler = async () => ({});\n');
  const app = new App({ outdir: path.join(dir, 'cdk.out') });
  const stack = new NedliaStack(app, 'NedliaTest', {
    consumers: allConsumers.map((c) => ({ name: c.name, types: c.types, ...(c.maxAttempts ? { maxAttempts: c.maxAttempts } : {}) })),
    code: () => lambda.Code.fromAsset(dir, { exclude: ['cdk.out'] }),
    corsOrigins: ORIGINS,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Resources;
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the synthesized stack', () => {
  it('routes an HTTP API (payload 2.0) to the API function, with the configured CORS origins', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({ AllowOrigins: ORIGINS }),
    });
    const [apiId] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))!;
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: arnOf(apiId) });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Timeout: TIMEOUTS.api,
      Environment: { Variables: Match.objectLike({ CORS_ORIGINS: ORIGINS.join(','), NODE_ENV: 'production', EVENT_BUS: 'sqs' }) },
    });
  });

  it('has one EventBridge bus, and per consumer a rule on its types → a queue → its function, reporting batch item failures', () => {
    const buses = ofType('AWS::Events::EventBus');
    expect(buses).toHaveLength(1);
    const [busId] = buses[0]!;
    const queues = ofType('AWS::SQS::Queue');
    expect(queues).toHaveLength(allConsumers.length * 2);
    for (const consumer of allConsumers) {
      const [queueId, queue] = queues.find(([, q]) => q.Properties.QueueName === `nedlia-${consumer.name}`)!;
      const rules = ofType('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes(queueId));
      expect(rules).toHaveLength(1);
      expect(rules[0]![1].Properties).toMatchObject({
        EventBusName: ref(busId),
        EventPattern: { source: ['nedlia'], 'detail-type': [...consumer.types] },
        Targets: [expect.objectContaining({ Arn: arnOf(queueId) })],
      });
      const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify(arnOf(queueId)));
      expect(mappings).toHaveLength(1);
      expect(mappings[0]![1].Properties).toMatchObject({ FunctionResponseTypes: ['ReportBatchItemFailures'], BatchSize: 10 });
      const functionId = (mappings[0]![1].Properties.FunctionName as { Ref: string }).Ref;
      const fn = resources[functionId]!.Properties;

      // Visibility timeout ≥ 6× the function's timeout.
      expect(queue.Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(CONSUMER_VISIBILITY_FACTOR * (fn.Timeout as number));
      // A dead-letter queue that keeps messages longer than the source queue.
      const redrive = queue.Properties.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number };
      const dlq = resources[redrive.deadLetterTargetArn['Fn::GetAtt'][0]]!;
      expect(dlq.Type).toBe('AWS::SQS::Queue');
      expect(dlq.Properties.MessageRetentionPeriod as number).toBeGreaterThan(queue.Properties.MessageRetentionPeriod as number);
      // The runtime dead-letters (in the database) before SQS gives up on a message.
      expect(redrive.maxReceiveCount).toBeGreaterThan(consumer.maxAttempts ?? 5);
      // ...with room for receives 180 s apart while the database is unreachable (about half an hour).
      expect((redrive.maxReceiveCount - (consumer.maxAttempts ?? 5)) * (queue.Properties.VisibilityTimeout as number)).toBeGreaterThanOrEqual(1800);
      // The function may set a retried record's visibility to its backoff on its own queue.
      const statements = statementsOf(resources[functionId]!);
      expect(statements).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['sqs:ChangeMessageVisibility']), Resource: arnOf(queueId) }));
    }
  });

  it('runs the relay and the background workers every minute and maintenance every hour', () => {
    const schedules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression);
    const targetsOf = (expression: string) =>
      schedules
        .filter(([, r]) => r.Properties.ScheduleExpression === expression)
        .map(([, r]) => (r.Properties.Targets as { Arn: { 'Fn::GetAtt': [string] } }[])[0]!.Arn['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, ''))
        .sort();
    expect(targetsOf('rate(1 minute)')).toEqual(['RelayFunction', 'WorkersFunction']);
    expect(targetsOf('rate(1 hour)')).toEqual(['MaintenanceFunction']);
    const relay = functionNamed('RelayFunction');
    expect(relay.Properties.ReservedConcurrentExecutions).toBe(1);
    // The workers run longer than the schedule's period, so one is always running (their leases share the work).
    const workers = functionNamed('WorkersFunction');
    expect(workers.Properties.Timeout as number).toBeGreaterThan(60);
    expect(workers.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('serves placement files publicly through CloudFront only; every bucket is private, encrypted and TLS-only', () => {
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['ArchivesBucket', 'MediaBucket', 'PlacementFilesBucket']);
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
      const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties.Bucket) === JSON.stringify(ref(id)))!;
      expect(JSON.stringify(policy[1].Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
    const [placementId] = buckets.find(([id]) => id.startsWith('PlacementFilesBucket'))!;
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        // Only the generator's keys (placement-files/…) are reachable through the CDN.
        Origins: [Match.objectLike({ DomainName: { 'Fn::GetAtt': [placementId, 'RegionalDomainName'] }, OriginPath: '/placement-files', OriginAccessControlId: Match.anyValue() })],
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
    const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties.Bucket) === JSON.stringify(ref(placementId)))![1];
    expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('cloudfront.amazonaws.com');

    // Each function stores where it should, and may touch only that bucket.
    const [mediaId] = buckets.find(([id]) => id.startsWith('MediaBucket'))!;
    const bucketOf = (fn: { Properties: Record<string, unknown> }) => (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.S3_BUCKET;
    const s3Access = (fn: { Properties: Record<string, unknown> }) =>
      statementsOf(fn)
        .filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')))
        .map((st) => ({ writes: actionsOf(st).some((a) => a.startsWith('s3:PutObject')), bucket: JSON.stringify(st.Resource).match(/(PlacementFilesBucket|MediaBucket|ArchivesBucket)[0-9A-F]{8}/)?.[0] }));
    const api = functionNamed('ApiFunction');
    expect(bucketOf(api)).toEqual(ref(placementId));
    expect(s3Access(api).length).toBeGreaterThan(0);
    expect(s3Access(api).every((a) => a.bucket === placementId && !a.writes)).toBe(true);
    const expected: Record<string, string> = { 'placement-file-generator': placementId, 'video-analyser': mediaId, 'video-assets-cleaner': mediaId };
    for (const consumer of allConsumers) {
      const fn = functionNamed(`${consumer.name.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('')}Function`);
      const access = s3Access(fn);
      if (expected[consumer.name]) {
        expect(bucketOf(fn), consumer.name).toEqual(ref(expected[consumer.name]!));
        expect(access.some((a) => a.writes && a.bucket === expected[consumer.name]), consumer.name).toBe(true);
        expect(access.every((a) => a.bucket === expected[consumer.name]), consumer.name).toBe(true);
      } else {
        expect(access, consumer.name).toEqual([]);
      }
    }
    expect(Object.keys(expected).every((name) => allConsumers.some((c) => c.name === name))).toBe(true);
    // The sync worker writes its snapshots where the API reads them.
    const workers = functionNamed('WorkersFunction');
    expect(bucketOf(workers)).toEqual(ref(placementId));
    expect(s3Access(workers).some((a) => a.writes && a.bucket === placementId)).toBe(true);
  });

  it('runs Aurora PostgreSQL Serverless v2 in isolated subnets behind RDS Proxy, its secret in Secrets Manager', () => {
    const [, cluster] = ofType('AWS::RDS::DBCluster')[0]!;
    expect(cluster.Properties).toMatchObject({
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 },
      BackupRetentionPeriod: 14,
      DeletionProtection: true,
    });
    for (const [, instance] of ofType('AWS::RDS::DBInstance')) expect(instance.Properties.DBInstanceClass).toBe('db.serverless');
    const subnetGroup = ofType('AWS::RDS::DBSubnetGroup')[0]![1];
    for (const subnet of subnetGroup.Properties.SubnetIds as { Ref: string }[]) {
      const tags = resources[subnet.Ref]!.Properties.Tags as { Key: string; Value: string }[];
      expect(tags).toContainEqual({ Key: 'aws-cdk:subnet-type', Value: 'Isolated' });
    }
    const [secretId] = ofType('AWS::SecretsManager::Secret')[0]!;
    // The proxy signs in to Aurora with the secret, and takes only IAM auth tokens from clients, over TLS.
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      Auth: [Match.objectLike({ AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED', SecretArn: Match.anyValue() })],
    });
    expect(ofType('AWS::SecretsManager::SecretTargetAttachment')[0]![1].Properties.SecretId).toEqual(ref(secretId));
    const [proxyId] = ofType('AWS::RDS::DBProxy')[0]!;
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      // Every function reaches the database through the proxy, with no password in its configuration...
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.DATABASE_IAM_AUTH, id).toBe('1');
      expect(env.DATABASE_URL, id).toEqual({ 'Fn::Join': ['', ['postgres://nedlia@', { 'Fn::GetAtt': [proxyId, 'Endpoint'] }, ':5432/nedlia?sslmode=verify-full']] });
      // ...and may connect to it as that user: rds-db:connect on the proxy's dbuser ARN.
      const statements = statementsOf(fn);
      const connect = statements.filter((st) => st.Action === 'rds-db:connect' && st.Effect === 'Allow');
      expect(connect, id).toHaveLength(1);
      const resource = JSON.stringify(connect[0]!.Resource);
      expect(resource).toContain(':dbuser:');
      expect(resource).toContain(proxyId);
      expect(resource).toMatch(/\/nedlia"\]\]\}$/);
    }
  });

  it('has a Cognito user pool and app client whose tokens the API is configured to accept', () => {
    const [poolId] = ofType('AWS::Cognito::UserPool')[0]!;
    const [clientId] = ofType('AWS::Cognito::UserPoolClient')[0]!;
    const groups = ofType('AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties.GroupName).sort();
    expect(groups).toEqual(['admin', 'advertiser', 'creator']);
    template.hasResourceProperties('AWS::Cognito::UserPool', { Schema: Match.arrayWith([Match.objectLike({ Name: 'advertiser_id', AttributeDataType: 'String' })]) });
    const api = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))![1];
    const env = (api.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.AUTH_AUDIENCE).toEqual(ref(clientId));
    expect(JSON.stringify(env.AUTH_ISSUER)).toContain(poolId);
    expect(JSON.stringify(env.AUTH_JWKS_URL)).toContain('/.well-known/jwks.json');
  });

  it('runs every function on a supported Node.js runtime inside the VPC', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.VpcConfig).toBeDefined();
    }
  });
});
