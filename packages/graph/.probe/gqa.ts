import { runOp, rnd, cmp } from './h';
import { groupQueryAttention } from '../src/contrib/oracles';
const N=4, Nkv=2; let H=16;
function caches(maxSeq:number, half:number) {
  const cos=new Float32Array(maxSeq*half), sin=new Float32Array(maxSeq*half);
  for (let p=0;p<maxSeq;p++) for (let i=0;i<half;i++) { const th = p * Math.pow(10000, -2*i/(2*half)); cos[p*half+i]=Math.cos(th); sin[p*half+i]=Math.sin(th); }
  return {cos,sin};
}
async function t(label:string, o:{B:number,S:number,pastBuf:number,seqlens:number[],total:number,packed?:boolean,rotary?:boolean,interleaved?:boolean,half?:number,scale?:number,softcap?:number,window?:number,smooth?:boolean,sink?:boolean,bias?:boolean}) {
  const {B,S,pastBuf}=o; H = (o as any).H ?? 16;
  const packed=!!o.packed;
  const query = rnd(B*S*(packed?(N+2*Nkv):N)*H);
  const key = packed?undefined:rnd(B*S*Nkv*H), value=packed?undefined:rnd(B*S*Nkv*H);
  const pastKey = pastBuf? rnd(B*Nkv*pastBuf*H):undefined, pastValue = pastBuf?rnd(B*Nkv*pastBuf*H):undefined;
  const half = o.half ?? H/2;
  const {cos,sin} = caches(64, half);
  const sink = o.sink ? rnd(N) : undefined;
  const biasShape:[number,number,number,number] = [B,1,S,o.total];
  const bias = o.bias ? rnd(B*S*o.total) : undefined;
  const feeds:any[] = [
    {name:'q',dtype:'float32',dims:[B,S,query.length/(B*S)],data:query},
    key?{name:'k',dtype:'float32',dims:[B,S,Nkv*H],data:key}:null,
    value?{name:'v',dtype:'float32',dims:[B,S,Nkv*H],data:value}:null,
    pastKey?{name:'pk',dtype:'float32',dims:[B,Nkv,pastBuf,H],data:pastKey}:null,
    pastValue?{name:'pv',dtype:'float32',dims:[B,Nkv,pastBuf,H],data:pastValue}:null,
    {name:'sl',dtype:'int32',dims:[B],data:new Int32Array(o.seqlens)},
    {name:'tl',dtype:'int32',dims:[],data:new Int32Array([o.total])},
    o.rotary?{name:'cos',dtype:'float32',dims:[64,half],data:cos}:null,
    o.rotary?{name:'sin',dtype:'float32',dims:[64,half],data:sin}:null,
    null,
    bias?{name:'ab',dtype:'float32',dims:biasShape,data:bias}:null,
    sink?{name:'hs',dtype:'float32',dims:[N],data:sink}:null,
  ];
  while (feeds[feeds.length-1]===null) feeds.pop();
  const attrs:any={num_heads:{type:'int',value:N},kv_num_heads:{type:'int',value:Nkv}};
  if (o.rotary) attrs.do_rotary={type:'int',value:1};
  if (o.interleaved) attrs.rotary_interleaved={type:'int',value:1};
  if (o.scale) attrs.scale={type:'float',value:o.scale};
  if (o.softcap) attrs.softcap={type:'float',value:o.softcap};
  if (o.window) attrs.local_window_size={type:'int',value:o.window};
  if (o.smooth) attrs.smooth_softmax={type:'int',value:1};
  try {
    const r = await runOp('GroupQueryAttention','com.microsoft',feeds,[['o',3],['present_k',4],['present_v',4]],attrs);
    const ref = groupQueryAttention({batchSize:B,sequenceLength:S,numHeads:N,kvNumHeads:Nkv,headSize:H,query,key,value,pastKey,pastValue,seqlensK:o.seqlens,totalSequenceLength:o.total,
      cosCache:cos,sinCache:sin,cacheHalfDim:half,doRotary:o.rotary,rotaryInterleaved:o.interleaved,scale:o.scale,softcap:o.softcap,localWindowSize:o.window,smoothSoftmax:o.smooth,headSink:sink,attentionBias:bias,attentionBiasShape:biasShape});
    console.log(label, 'dims', r.o.dims, r.present_k.dims, 'ref present', ref.presentLength);
    cmp(label+' out', r.o.data as any, ref.output); cmp(label+' pk', r.present_k.data as any, ref.presentKey); cmp(label+' pv', r.present_v.data as any, ref.presentValue);
  } catch(e:any) { console.log(label,'ERR', e.message.slice(0,400)); }
}
await t('prompt', {B:1,S:5,pastBuf:0,seqlens:[4],total:5});
await t('prompt rot', {B:1,S:5,pastBuf:0,seqlens:[4],total:5,rotary:true});
await t('prompt rot il', {B:1,S:5,pastBuf:0,seqlens:[4],total:5,rotary:true,interleaved:true});
await t('prompt packed rot', {B:2,S:5,pastBuf:0,seqlens:[4,4],total:5,rotary:true,packed:true});
await t('decode', {B:1,S:1,pastBuf:5,seqlens:[5],total:6});
await t('decode rot', {B:2,S:1,pastBuf:5,seqlens:[5,5],total:6,rotary:true});
await t('decode rot ragged', {B:2,S:1,pastBuf:5,seqlens:[5,3],total:6,rotary:true});
await t('decode rot sharedbuf', {B:1,S:1,pastBuf:12,seqlens:[5],total:6,rotary:true});
await t('multi-token', {B:1,S:3,pastBuf:5,seqlens:[7],total:8,rotary:true});
await t('multi-token buf', {B:1,S:3,pastBuf:16,seqlens:[7],total:8,rotary:true});
await t('prompt with buf', {B:1,S:5,pastBuf:16,seqlens:[4],total:5,rotary:true});
await t('scale', {B:1,S:4,pastBuf:0,seqlens:[3],total:4,scale:0.5});
await t('softcap', {B:1,S:4,pastBuf:0,seqlens:[3],total:4,softcap:0.7});
await t('window', {B:1,S:7,pastBuf:0,seqlens:[6],total:7,window:2});
await t('window decode', {B:1,S:1,pastBuf:8,seqlens:[8],total:9,window:3});
await t('smooth', {B:1,S:4,pastBuf:0,seqlens:[3],total:4,smooth:true});
await t('sink', {B:1,S:4,pastBuf:0,seqlens:[3],total:4,sink:true});
await t('bias', {B:1,S:4,pastBuf:0,seqlens:[3],total:4,bias:true});
await t('bias softcap', {B:1,S:4,pastBuf:0,seqlens:[3],total:4,bias:true,softcap:0.7});
await t('partial rotary', {B:1,S:4,pastBuf:0,seqlens:[3],total:4,rotary:true,half:8,H:32} as any);
await t('partial rotary il decode', {B:1,S:1,pastBuf:6,seqlens:[6],total:7,rotary:true,interleaved:true,half:8,H:32} as any);
await t('prompt padded', {B:2,S:5,pastBuf:0,seqlens:[4,2],total:5,rotary:true});
await t('H=8', {B:1,S:3,pastBuf:0,seqlens:[2],total:3,H:8} as any);
await t('H=24 rot', {B:1,S:3,pastBuf:0,seqlens:[2],total:3,H:24,rotary:true,half:8} as any);
await t('decode window sink softcap', {B:1,S:1,pastBuf:8,seqlens:[8],total:9,window:3,sink:true,softcap:2,rotary:true});

