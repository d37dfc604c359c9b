import { runOp, rnd, cmp } from './h';
import { rotaryEmbedding, simplifiedLayerNormalization, skipSimplifiedLayerNormalization } from '../src/contrib/oracles';
async function t(label:string, shape:number[], half:number, o:{interleaved?:boolean,numHeads?:number,rotDim?:number,scalarPos?:number}) {
  const x=rnd(shape.reduce((a,b)=>a*b)); const maxSeq=32; const cos=rnd(maxSeq*half), sin=rnd(maxSeq*half);
  const B=shape[0], S= shape.length===4?shape[2]:shape[1];
  const pos = o.scalarPos!==undefined ? new BigInt64Array([BigInt(o.scalarPos)]) : BigInt64Array.from({length:B*S},(_,i)=>BigInt((i*7+3)%maxSeq));
  const feeds:any[]=[{name:'x',dtype:'float32',dims:shape,data:x},{name:'p',dtype:'int64',dims:o.scalarPos!==undefined?[1]:[B,S],data:pos},{name:'c',dtype:'float32',dims:[maxSeq,half],data:cos},{name:'s',dtype:'float32',dims:[maxSeq,half],data:sin}];
  const attrs:any={}; if(o.interleaved) attrs.interleaved={type:'int',value:1}; if(o.numHeads) attrs.num_heads={type:'int',value:o.numHeads}; if(o.rotDim) attrs.rotary_embedding_dim={type:'int',value:o.rotDim};
  try { const r=await runOp('RotaryEmbedding','com.microsoft',feeds,[['y',shape.length]],attrs);
  const ref=rotaryEmbedding({input:x,shape,positionIds:pos,cosCache:cos,sinCache:sin,cacheHalfDim:half,interleaved:o.interleaved,numHeads:o.numHeads,rotaryEmbeddingDim:o.rotDim});
  cmp(label, r.y.data as any, ref); } catch(e:any){ console.log(label,'ERR',e.message.slice(0,300)); }
}
await t('3d rope', [2,5,64],8,{});
await t('3d rope il', [2,5,64],8,{interleaved:true});
await t('4d rope', [2,4,5,16],8,{});
await t('4d rope il', [2,4,5,16],8,{interleaved:true});
await t('3d scalar pos', [2,5,64],8,{scalarPos:3});
await t('3d partial', [2,5,64],4,{numHeads:4,rotDim:8});
await t('3d partial il', [2,5,64],4,{numHeads:4,rotDim:8,interleaved:true});
await t('4d partial', [1,4,5,16],4,{numHeads:4,rotDim:8});
await t('3d numHeads only', [1,3,64],8,{numHeads:4});
// norms
{ const x=rnd(3*5*32), sc=rnd(32); const r=await runOp('SimplifiedLayerNormalization','',[{name:'x',dtype:'float32',dims:[3,5,32],data:x},{name:'g',dtype:'float32',dims:[32],data:sc}],[['y',3],['inv',3]],{epsilon:{type:'float',value:1e-6}});
  const ref=simplifiedLayerNormalization({x,shape:[3,5,32],scale:sc,epsilon:1e-6}); cmp('SLN y',r.y.data as any,ref.y); cmp('SLN inv',r.inv.data as any,ref.invStdVar); console.log(r.inv.dims);
}
{ const x=rnd(3*5*32), sc=rnd(160); const r=await runOp('SimplifiedLayerNormalization','',[{name:'x',dtype:'float32',dims:[3,5,32],data:x},{name:'g',dtype:'float32',dims:[5,32],data:sc}],[['y',3],['inv',3]],{axis:{type:'int',value:1}});
  const ref=simplifiedLayerNormalization({x,shape:[3,5,32],scale:sc,axis:1}); cmp('SLN axis1 y',r.y.data as any,ref.y); cmp('SLN axis1 inv',r.inv.data as any,ref.invStdVar); console.log(r.inv.dims); }
for (const variant of ['full','bias','skip2d','skip3d1','noeps']) {
  const B=2,S=3,Hd=32; const x=rnd(B*S*Hd); const g=rnd(Hd); const bias=variant==='bias'?rnd(Hd):undefined;
  const skipShape = variant==='skip2d'?[S,Hd]:variant==='skip3d1'?[1,S,Hd]:[B,S,Hd]; const skip=rnd(skipShape.reduce((a,b)=>a*b));
  const feeds:any[]=[{name:'x',dtype:'float32',dims:[B,S,Hd],data:x},{name:'sk',dtype:'float32',dims:skipShape,data:skip},{name:'g',dtype:'float32',dims:[Hd],data:g}, bias?{name:'bias',dtype:'float32',dims:[Hd],data:bias}:null];
  while(feeds[feeds.length-1]===null) feeds.pop();
  try { const r=await runOp('SkipSimplifiedLayerNormalization','com.microsoft',feeds,[['y',3],null,['inv',3],['sum',3]], variant==='noeps'?{}:{epsilon:{type:'float',value:1e-5}});
  const ref=skipSimplifiedLayerNormalization({input:x,skip,gamma:g,bias,hiddenSize:Hd,epsilon:1e-5});
  cmp('SSLN '+variant+' y',r.y.data as any,ref.output); cmp('SSLN '+variant+' sum',r.sum.data as any,ref.inputSkipBiasSum); console.log('inv dims', r.inv.dims, (r.inv.data as any).slice(0,3), ref.invStdVar.slice(0,3));
  } catch(e:any){ console.log('SSLN', variant,'ERR',e.message.slice(0,300)); }
}
