import { runOp, rnd, cmp } from './h';
import { causalConvWithState } from '../src/contrib/oracles';
async function t(B:number,C:number,L:number,K:number, opts:{bias?:boolean,past?:boolean,act?:string}) {
  const x=rnd(B*C*L), w=rnd(C*K), bias=opts.bias?rnd(C):undefined, past=opts.past?rnd(B*C*(K-1)):undefined;
  const feeds:any[]=[{name:'x',dtype:'float32',dims:[B,C,L],data:x},{name:'w',dtype:'float32',dims:[C,1,K],data:w},
    bias?{name:'bias',dtype:'float32',dims:[C],data:bias}:null, past?{name:'p',dtype:'float32',dims:[B,C,K-1],data:past}:null];
  while (feeds[feeds.length-1]===null) feeds.pop();
  const attrs:any = {}; if (opts.act) attrs.activation={type:'string',value:opts.act};
  try {
  const r = await runOp('CausalConvWithState','com.microsoft',feeds,[['o',3],['s',3]],attrs);
  const ref = causalConvWithState({batchSize:B,channels:C,length:L,kernelSize:K,input:x,weight:w,bias,pastState:past,activation:opts.act as any});
  const lab=`B${B} C${C} L${L} K${K} ${JSON.stringify(opts)}`;
  cmp(lab+' out', r.o.data as any, ref.output); cmp(lab+' state', r.s.data as any, ref.presentState);
  console.log(r.o.dims, r.s.dims);
  } catch(e:any) { console.log('ERR', e.message.slice(0,400)); }
}
await t(2,6,7,4,{bias:true,past:true,act:'silu'});
await t(2,6,1,4,{bias:true,past:true,act:'silu'});
await t(2,6,2,4,{bias:true,past:true,act:'swish'});
await t(2,6,5,4,{});
await t(1,6,1,4,{bias:true});
await t(1,6,3,3,{past:true,act:'none'});
await t(1,6,3,1,{bias:true});
await t(1,6,3,7,{past:true,bias:true,act:'silu'});
