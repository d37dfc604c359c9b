import { runOp, rnd, cmp } from './h';
import { skipSimplifiedLayerNormalization } from '../src/contrib/oracles';
const variant = process.argv[2]; const outsMode = process.argv[3];
const B=2,S=3,Hd=32; const x=rnd(B*S*Hd); const g=rnd(Hd); const bias=variant==='bias'?rnd(Hd):undefined;
const skipShape = variant==='skip2d'?[S,Hd]:variant==='skip3d1'?[1,S,Hd]:variant==='skip1d'?[Hd]:[B,S,Hd]; const skip=rnd(skipShape.reduce((a,b)=>a*b));
const feeds:any[]=[{name:'x',dtype:'float32',dims:[B,S,Hd],data:x},{name:'sk',dtype:'float32',dims:skipShape,data:skip},{name:'g',dtype:'float32',dims:[Hd],data:g}, bias?{name:'bias',dtype:'float32',dims:[Hd],data:bias}:null];
while(feeds[feeds.length-1]===null) feeds.pop();
const outs:any = outsMode==='y'?[['y',3]]: outsMode==='ysum'?[['y',3],null,null,['sum',3]] : outsMode==='all' ? [['y',3],['mean',3],['inv',3],['sum',3]] : outsMode==='invonly' ? [['y',3],null,['inv',3]] : outsMode==='meanonly' ? [['y',3],['mean',3]] : [['y',3],null,['inv',3],['sum',3]];
try { const r=await runOp('SkipSimplifiedLayerNormalization','com.microsoft',feeds,outs, variant==='noeps'?{}:{epsilon:{type:'float',value:1e-5}});
const ref=skipSimplifiedLayerNormalization({input:x,skip,gamma:g,bias,hiddenSize:Hd,epsilon:Number(process.env.EPS ?? 1e-5)});
cmp('SSLN '+variant+' y',r.y.data as any,ref.output); if (r.sum) cmp('SSLN '+variant+' sum',r.sum.data as any,ref.inputSkipBiasSum);
if (r.inv) console.log('inv', r.inv.dims, Array.from(r.inv.data as any).slice(0,3), ref.invStdVar.slice(0,3));
if (r.mean) console.log('mean', r.mean.dims, Array.from(r.mean.data as any).slice(0,3));
} catch(e:any){ console.log('SSLN', variant,'ERR',e.message.slice(0,300)); }
