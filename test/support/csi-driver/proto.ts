import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The CSI spec as published in its Go module; the snapshotter (v8.7.0) builds against this version, the
 * provisioner (v5.3.0) against v1.11.0, and the wire format is compatible both ways.
 */
export const CSI_SPEC_MODULE = 'github.com/container-storage-interface/spec';
export const CSI_SPEC_VERSION = 'v1.13.0';

/**
 * The path of `csi.proto` in the Go module cache, downloading the module through the Go module proxy when
 * it is not there yet (nothing else of it is used: the driver is TypeScript).
 */
export function csiProtoFromModuleCache(): string {
  const out = execFileSync('go', ['mod', 'download', '-json', `${CSI_SPEC_MODULE}@${CSI_SPEC_VERSION}`], {
    encoding: 'utf8',
    cwd: '/', // outside any module: the module cache and proxy only
  });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (info.Dir === undefined) throw new Error(`go mod download ${CSI_SPEC_MODULE}@${CSI_SPEC_VERSION}: ${info.Error ?? out}`);
  return join(info.Dir, 'csi.proto');
}

export type CsiService = 'Identity' | 'Controller' | 'GroupController';

/** The package `csi.v1` of the spec: service constructors (Identity, Controller, …) and message types. */
export function loadCsiPackage(protoPath: string): grpc.GrpcObject {
  const definition = protoLoader.loadSync(protoPath, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const root = grpc.loadPackageDefinition(definition);
  return (root.csi as grpc.GrpcObject).v1 as grpc.GrpcObject;
}

export function serviceDefinition(csi: grpc.GrpcObject, service: CsiService): grpc.ServiceDefinition {
  return (csi[service] as grpc.ServiceClientConstructor).service;
}

export function serviceClient(csi: grpc.GrpcObject, service: CsiService): grpc.ServiceClientConstructor {
  return csi[service] as grpc.ServiceClientConstructor;
}
