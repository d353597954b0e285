/** `/v1/products`: advertisers manage their own; creators read those of active advertisers. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CatalogDeps } from '../shared/access.js';
import * as products from './product-use-cases.js';
import { actorOf } from '../../../platform/http/authenticate.js';
import {
  IdParams, IdempotencyHeaders, IfMatchHeaders, ListOf, PageQuery, Uuid, Conventions, commandOf, expectedVersion, pageJson, problems, rejectNulCharacters, setEtag,
} from '../shared/catalog-http.js';
import { NewProduct, Product, ProductPatchBody, productJson } from './product-schemas.js';

const tags = ['products'];
const security = [{ bearerAuth: [] }];

export const productRoutes: FastifyPluginAsyncTypebox<CatalogDeps> = async (app, deps) => {
  app.get(
    '/v1/products',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'List the products you may see',
        description: `Products you may see: an admin all, an advertiser its own, a creator those of active advertisers. ${Conventions.list}`,
        querystring: Type.Object({ ...PageQuery, advertiser_id: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 200: ListOf(Product), ...problems(400, 401, 403, 422, 429) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return pageJson(await products.listProducts(deps, actorOf(request), filter, { limit, cursor }), productJson);
    },
  );

  app.get(
    '/v1/products/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Read a product',
        description: `One product with its assets. ${Conventions.read}`,
        params: IdParams, response: { 200: Product, ...problems(400, 401, 404, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await products.getProduct(deps, actorOf(request), request.params.id);
      setEtag(reply, row.version);
      return productJson(row);
    },
  );

  app.post(
    '/v1/products',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Create a product (advertiser, admin)',
        description: `Adds a product an advertiser wants placed in videos (an admin names the \`advertiser_id\`). ${Conventions.create}`, headers: IdempotencyHeaders, body: NewProduct,
        response: { 201: Product, ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await products.createProduct(commandOf(deps, request), request.body);
      setEtag(reply, row.version);
      reply.header('location', `/v1/products/${row.id}`);
      return reply.code(201).send(productJson(row));
    },
  );

  app.patch(
    '/v1/products/:id',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Change a product',
        description: `Changes a product's name, description, category or assets. ${Conventions.change}`, params: IdParams, headers: IfMatchHeaders, body: ProductPatchBody,
        response: { 200: Product, ...problems(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      const row = await products.updateProduct(commandOf(deps, request), request.params.id, version, request.body);
      setEtag(reply, row.version);
      return productJson(row);
    },
  );

  app.delete(
    '/v1/products/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Delete a product (soft delete)',
        description: `Removes a product. ${Conventions.remove}`, params: IdParams, headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(400, 401, 403, 404, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      await products.deleteProduct(commandOf(deps, request), request.params.id, version);
      return reply.code(204).send(null);
    },
  );
};
