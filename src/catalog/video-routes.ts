import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { errors } from '../errors.ts';
import { errorResponses, IdParam } from '../http/schemas.ts';
import { type VideoRepository, videoToApi } from './video-repository.ts';

export async function videoRoutes(
  parent: FastifyInstance,
  options: { videos: VideoRepository },
): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/v1/videos/:id',
    {
      schema: {
        tags: ['videos'],
        summary: 'A video: status, metadata and playback URLs',
        params: Type.Object({ id: IdParam }),
        response: { 404: errorResponses(404)[404] },
      },
    },
    async (request) => {
      const row = await options.videos.find(request.params.id);
      if (!row) throw errors.videoNotFound(`No video ${request.params.id}`);
      return videoToApi(row);
    },
  );
}
