/**
 * The development issuer's public keys, for anything else that verifies its tokens
 * (a gateway, another service). Registered only when `AUTH_DEV_ISSUER=1`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DevIssuer } from '../../auth/dev-issuer.js';

const PublicJwk = Type.Object(
  {
    kty: Type.String(),
    kid: Type.Optional(Type.String()),
    alg: Type.Optional(Type.String()),
    use: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String()),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
  },
  { description: 'A public JSON Web Key' },
);

export interface DevIssuerRouteOptions {
  devIssuer: Pick<DevIssuer, 'issuer' | 'audience' | 'jwks'>;
}

export const devIssuerRoutes: FastifyPluginAsyncTypebox<DevIssuerRouteOptions> = async (app, { devIssuer }) => {
  const body = { keys: devIssuer.jwks.keys.map((key) => ({ ...key, kty: key.kty ?? 'RSA' })) };
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['auth'],
        summary: 'Public keys of the development token issuer',
        description: `The JSON Web Key Set that verifies tokens with \`iss\` = \`${devIssuer.issuer}\` and \`aud\` = \`${devIssuer.audience}\` (minted by \`npm run cli -- token\`). Only served when AUTH_DEV_ISSUER=1.`,
        response: { 200: Type.Object({ keys: Type.Array(PublicJwk) }) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return body;
    },
  );
};
